import test from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from './lru.js';

test('stores', () => {
  const c = new LruCache({ max: 2 });
  c.set('a', 1);
  assert.equal(c.get('a'), 1);
});
