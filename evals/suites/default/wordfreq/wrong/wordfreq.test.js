import test from 'node:test';
import assert from 'node:assert/strict';
import { topWords } from './wordfreq.js';

test('counts words', () => assert.deepEqual(topWords('b b a'), [['b', 2], ['a', 1]]));
