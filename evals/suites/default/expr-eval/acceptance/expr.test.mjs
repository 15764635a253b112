import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { evaluate } = await import(pathToFileURL(path.resolve('expr.js')).href);

test('precedence and associativity', () => {
  assert.equal(evaluate('1 + 2 * 3'), 7);
  assert.equal(evaluate('(1 + 2) * 3'), 9);
  assert.equal(evaluate('10 - 4 - 3'), 3);
  assert.equal(evaluate('2 ^ 3 ^ 2'), 512);
  assert.equal(evaluate('-2 ^ 2'), -4);
  assert.equal(evaluate('7 % 4 * 2'), 6);
  assert.equal(evaluate('.5 + 2.25'), 2.75);
  assert.equal(evaluate('--3'), 3);
});
test('variables and functions', () => {
  assert.equal(evaluate('x * (y + 1)', { x: 3, y: 4 }), 15);
  assert.equal(evaluate('max(1, x, 3) + min(4, 2) + abs(-2) + sqrt(16)', { x: 9 }), 17);
});
test('errors', () => {
  assert.throws(() => evaluate('1 +'), SyntaxError);
  assert.throws(() => evaluate('(1 + 2'), SyntaxError);
  assert.throws(() => evaluate('1 2'), SyntaxError);
  assert.throws(() => evaluate('2 $ 3'), SyntaxError);
  assert.throws(() => evaluate('nope + 1'), ReferenceError);
  assert.throws(() => evaluate('foo(1)'), ReferenceError);
  assert.throws(() => evaluate('1 / (2 - 2)'), RangeError);
});
test('no eval or Function', () => {
  const src = readFileSync(path.resolve('expr.js'), 'utf8');
  assert.doesNotMatch(src, /\beval\s*\(|new\s+Function\b|\bFunction\s*\(/);
  assert.throws(() => evaluate('constructor'), ReferenceError);
});
