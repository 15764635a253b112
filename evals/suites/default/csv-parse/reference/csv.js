export function parseCsv(text, { header = false } = {}) {
  const records = [];
  let record = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let started = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      started = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      started = true;
      i++;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      started = false;
      i += c === '\r' ? 2 : 1;
    } else {
      field += c;
      started = true;
      i++;
    }
  }
  if (quoted) throw new SyntaxError('unterminated quoted field');
  if (started || field) {
    record.push(field);
    records.push(record);
  }
  if (!header) return records;
  const [keys = [], ...rows] = records;
  return rows.map((r) => Object.fromEntries(keys.map((k, j) => [k, r[j] ?? ''])));
}
