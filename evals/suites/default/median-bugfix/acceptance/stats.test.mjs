import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { mean, median } = await import(pathToFileURL(path.resolve('stats.js')).href);

test('median: odd and even counts, numeric order', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 9, 100]), 10);
  assert.equal(median([-5, 20, 3, 100]), 11.5);
});
test('median does not reorder its argument', () => {
  const xs = [3, 1, 2];
  median(xs);
  assert.deepEqual(xs, [3, 1, 2]);
});
test('median of nothing is a RangeError', () => {
  assert.throws(() => median([]), RangeError);
});
test('mean still works', () => assert.equal(mean([1, 2, 3, 4]), 2.5));
