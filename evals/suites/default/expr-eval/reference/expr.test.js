import test from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from './expr.js';

test('adds', () => assert.equal(evaluate('1 + 2'), 3));
