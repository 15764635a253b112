import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const fresh = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'todo-')), 'todos.json');
const cli = (file, ...args) => spawnSync(process.execPath, [path.resolve('todo.js'), ...args], { encoding: 'utf8', env: { ...process.env, TODO_FILE: file } });

test('empty list, add, list, done', () => {
  const f = fresh();
  assert.equal(cli(f, 'list').stdout.trim(), 'no todos');
  assert.equal(cli(f, 'add', 'buy milk').stdout.trim(), 'added 1');
  assert.equal(cli(f, 'add', 'walk the dog').stdout.trim(), 'added 2');
  assert.equal(cli(f, 'done', '1').status, 0);
  assert.deepEqual(cli(f, 'list').stdout.trim().split('\n'), ['[x] 1 buy milk', '[ ] 2 walk the dog']);
});
test('ids are never reused after rm', () => {
  const f = fresh();
  cli(f, 'add', 'a');
  cli(f, 'add', 'b');
  assert.equal(cli(f, 'rm', '2').status, 0);
  assert.equal(cli(f, 'add', 'c').stdout.trim(), 'added 3');
  assert.deepEqual(cli(f, 'list').stdout.trim().split('\n'), ['[ ] 1 a', '[ ] 3 c']);
});
test('unknown id exits 1, unknown command exits 2', () => {
  const f = fresh();
  const r = cli(f, 'done', '9');
  assert.equal(r.status, 1);
  assert.notEqual(r.stderr.trim(), '');
  assert.equal(cli(f, 'rm', '9').status, 1);
  assert.equal(cli(f, 'frobnicate').status, 2);
});
