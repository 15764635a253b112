import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { toRoman, fromRoman } = await import(pathToFileURL(path.resolve('roman.js')).href);

test('toRoman', () => {
  assert.equal(toRoman(1), 'I');
  assert.equal(toRoman(4), 'IV');
  assert.equal(toRoman(9), 'IX');
  assert.equal(toRoman(1994), 'MCMXCIV');
  assert.equal(toRoman(3999), 'MMMCMXCIX');
});
test('fromRoman', () => {
  assert.equal(fromRoman('XLII'), 42);
  assert.equal(fromRoman('MCMXCIV'), 1994);
});
test('round trip 1..3999', () => {
  for (let n = 1; n < 4000; n++) assert.equal(fromRoman(toRoman(n)), n);
});
test('out of range and malformed input throw RangeError', () => {
  for (const n of [0, 4000, 2.5, -1]) assert.throws(() => toRoman(n), RangeError);
  for (const s of ['IIII', 'ABC', '', 'IC', 'VV']) assert.throws(() => fromRoman(s), RangeError);
});
