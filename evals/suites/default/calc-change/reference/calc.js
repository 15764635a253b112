function check(...args) {
  for (const x of args) if (typeof x !== 'number' || !Number.isFinite(x)) throw new TypeError(`not a finite number: ${x}`);
}

export function add(a, b) {
  check(a, b);
  return a + b;
}

export function subtract(a, b) {
  check(a, b);
  return a - b;
}

export function multiply(a, b) {
  check(a, b);
  return a * b;
}

export function divide(a, b) {
  check(a, b);
  if (b === 0) throw new RangeError('division by zero');
  return a / b;
}
