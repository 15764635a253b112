export function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function median(xs) {
  const sorted = xs.sort();
  const mid = Math.floor(sorted.length / 2);
  return sorted[mid];
}
