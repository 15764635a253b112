import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const calc = await import(pathToFileURL(path.resolve('calc.js')).href);

test('add still works', () => assert.equal(calc.add(2, 3), 5));
test('subtract, multiply, divide', () => {
  assert.equal(calc.subtract(10, 4), 6);
  assert.equal(calc.multiply(6, 7), 42);
  assert.equal(calc.divide(9, 3), 3);
});
test('divide by zero is a RangeError', () => {
  assert.throws(() => calc.divide(1, 0), RangeError);
});
test('non-finite or non-number arguments are TypeErrors, for add too', () => {
  for (const f of ['add', 'subtract', 'multiply', 'divide']) {
    assert.throws(() => calc[f]('1', 2), TypeError, f);
    assert.throws(() => calc[f](1, NaN), TypeError, f);
    assert.throws(() => calc[f](Infinity, 1), TypeError, f);
  }
});
