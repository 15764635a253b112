// Wrong on purpose: a naive split; quotes are not understood.
export function parseCsv(text, { header = false } = {}) {
  const records = text.split(/\r?\n/).filter((l) => l !== '').map((l) => l.split(','));
  if (!header) return records;
  const [keys, ...rows] = records;
  return rows.map((r) => Object.fromEntries(keys.map((k, j) => [k, r[j]])));
}
