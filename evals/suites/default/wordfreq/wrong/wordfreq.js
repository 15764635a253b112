// Wrong on purpose: case-sensitive, ASCII-only words, ties in no particular order, no --top.
import { readFileSync } from 'node:fs';

export function topWords(text, top = 10) {
  const counts = {};
  for (const w of text.split(/[^A-Za-z]+/).filter(Boolean)) counts[w] = (counts[w] ?? 0) + 1;
  return Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, top);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = readFileSync(process.argv[2], 'utf8');
  for (const [w, n] of topWords(text)) console.log(`${w} ${n}`);
}
