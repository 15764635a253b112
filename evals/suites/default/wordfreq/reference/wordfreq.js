import { readFileSync } from 'node:fs';

export function topWords(text, top = 10) {
  const counts = new Map();
  for (const w of text.toLowerCase().match(/[\p{L}']+/gu) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, top);
}

function main(argv) {
  const file = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--top');
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 10;
  if (!file) {
    console.error('usage: node wordfreq.js FILE [--top N]');
    process.exit(1);
  }
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    console.error(`wordfreq: cannot read ${file}: ${err.message}`);
    process.exit(1);
  }
  for (const [w, n] of topWords(text, top)) console.log(`${w} ${n}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
