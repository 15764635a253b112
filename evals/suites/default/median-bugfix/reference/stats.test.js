import test from 'node:test';
import assert from 'node:assert/strict';
import { mean, median } from './stats.js';

test('mean', () => assert.equal(mean([1, 2, 3, 4]), 2.5));
test('median of an odd count', () => assert.equal(median([3, 1, 2]), 2));
test('median of an even count is the mean of the middle two', () => assert.equal(median([4, 1, 3, 2]), 2.5));
test('median sorts numbers as numbers', () => assert.equal(median([10, 9, 100]), 10));
