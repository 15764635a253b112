import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { slugify } = await import(pathToFileURL(path.resolve('slugify.js')).href);

test('lowercases and joins words with single hyphens', () => {
  assert.equal(slugify('Hello World'), 'hello-world');
  assert.equal(slugify('  many   spaces  here '), 'many-spaces-here');
});
test('punctuation runs become one hyphen, none at the ends', () => {
  assert.equal(slugify('--Rock & Roll!!--'), 'rock-roll');
  assert.equal(slugify('a.b_c/d'), 'a-b-c-d');
});
test('accents are dropped', () => {
  assert.equal(slugify('Crème Brûlée'), 'creme-brulee');
  assert.equal(slugify('Ångström 2024'), 'angstrom-2024');
});
test('nothing left gives an empty string', () => {
  assert.equal(slugify('!!!'), '');
});
