import test from 'node:test';
import assert from 'node:assert/strict';
import { toRoman, fromRoman } from './roman.js';

test('one', () => assert.equal(toRoman(1), 'I'));
test('three', () => assert.equal(fromRoman('III'), 3));
