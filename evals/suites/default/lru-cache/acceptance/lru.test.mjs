import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { LruCache } = await import(pathToFileURL(path.resolve('lru.js')).href);

test('evicts the least recently used; get counts as use', () => {
  const c = new LruCache({ max: 2 });
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1);
  c.set('c', 3);
  assert.equal(c.get('b'), undefined);
  assert.deepEqual(c.keys(), ['c', 'a']);
  assert.equal(c.size, 2);
});
test('has does not count as use; delete says whether it existed', () => {
  const c = new LruCache({ max: 2 });
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.has('a'), true);
  c.set('c', 3);
  assert.equal(c.has('a'), false);
  assert.equal(c.delete('b'), true);
  assert.equal(c.delete('b'), false);
  assert.equal(c.size, 1);
});
test('entries expire at t + ttlMs on the injected clock', () => {
  let t = 1000;
  const c = new LruCache({ max: 5, ttlMs: 100, now: () => t });
  c.set('a', 1);
  t = 1099;
  assert.equal(c.get('a'), 1);
  t = 1100;
  assert.equal(c.get('a'), undefined);
  assert.equal(c.size, 0);
});
test('max < 1 is a RangeError', () => {
  assert.throws(() => new LruCache({ max: 0 }), RangeError);
});
