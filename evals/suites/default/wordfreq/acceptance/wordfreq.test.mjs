import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wf-'));
const run = (...args) => spawnSync(process.execPath, [path.resolve('wordfreq.js'), ...args], { encoding: 'utf8' });
const file = (text) => {
  const f = path.join(dir, `${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(f, text);
  return f;
};

test('counts case-insensitively, most frequent first, ties alphabetical', () => {
  const r = run(file('The cat and the hat. THE end; cat!\nAnd so on'));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['the 3', 'and 2', 'cat 2', 'end 1', 'hat 1', 'on 1', 'so 1']);
});
test('--top limits the lines', () => {
  const r = run(file('b b b a a c d e'), '--top', '2');
  assert.deepEqual(r.stdout.trim().split('\n'), ['b 3', 'a 2']);
});
test('default is ten lines; apostrophes and other alphabets are part of words', () => {
  const words = 'one two three four five six seven eight nine ten eleven twelve'.split(' ');
  const r = run(file(`${words.join(' ')} don't don't привет привет привет`));
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 10);
  assert.deepEqual(lines.slice(0, 2), ['привет 3', "don't 2"]);
});
test('a missing file: stderr and exit 1', () => {
  const r = run(path.join(dir, 'nope.txt'));
  assert.equal(r.status, 1);
  assert.notEqual(r.stderr.trim(), '');
});
