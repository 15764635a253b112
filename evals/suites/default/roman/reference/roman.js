const TABLE = [[1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'], [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']];

export function toRoman(n) {
  if (!Number.isInteger(n) || n < 1 || n > 3999) throw new RangeError(`not an integer in 1..3999: ${n}`);
  let out = '';
  for (const [value, letters] of TABLE) {
    while (n >= value) {
      out += letters;
      n -= value;
    }
  }
  return out;
}

export function fromRoman(s) {
  if (typeof s !== 'string' || !/^[MDCLXVI]+$/.test(s)) throw new RangeError(`not a Roman numeral: ${s}`);
  let n = 0;
  let rest = s;
  for (const [value, letters] of TABLE) {
    while (rest.startsWith(letters)) {
      n += value;
      rest = rest.slice(letters.length);
    }
  }
  // Only the canonical spelling counts (IIII, VV, IC are refused).
  if (rest || n > 3999 || toRoman(n) !== s) throw new RangeError(`not a Roman numeral: ${s}`);
  return n;
}
