import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeScript } from '../../scripts/fake-llm/server.js';

/** The demo run (docs/fake-llm/todo-app.json): planner, architect, two coder tasks of a todo-list library with node:test tests. */
export function todoAppScript(): FakeScript {
  return JSON.parse(readFileSync(path.resolve('docs/fake-llm/todo-app.json'), 'utf8')) as FakeScript;
}
