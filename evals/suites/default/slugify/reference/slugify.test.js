import test from 'node:test';
import assert from 'node:assert/strict';
import { slugify } from './slugify.js';

test('joins words', () => assert.equal(slugify('hello world'), 'hello-world'));
