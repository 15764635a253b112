// Wrong on purpose: additive only (4 -> IIII), and no validation.
const TABLE = [[1000, 'M'], [500, 'D'], [100, 'C'], [50, 'L'], [10, 'X'], [5, 'V'], [1, 'I']];

export function toRoman(n) {
  let out = '';
  for (const [value, letter] of TABLE) {
    while (n >= value) {
      out += letter;
      n -= value;
    }
  }
  return out;
}

export function fromRoman(s) {
  const values = Object.fromEntries(TABLE.map(([v, l]) => [l, v]));
  return [...s].reduce((sum, c) => sum + (values[c] ?? 0), 0);
}
