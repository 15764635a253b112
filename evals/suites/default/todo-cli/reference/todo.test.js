import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

test('add prints the id', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'todo-')), 'todos.json');
  const r = spawnSync(process.execPath, ['todo.js', 'add', 'x'], { encoding: 'utf8', env: { ...process.env, TODO_FILE: file } });
  assert.equal(r.stdout.trim(), 'added 1');
});
