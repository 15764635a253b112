import type { FakeResponder, FakeTurn, RecordedRequest } from './server.js';

/**
 * The scripted model of the chaos test and the soak: a tiny dependency-free app (`sum.js` + a `node --test`
 * test), answered from the request itself rather than from a consumed turn list. A run killed
 * mid-step redoes that step from scratch on another node; a pure function of the request gives
 * the redone step the same answers, however many times and wherever it is repeated.
 */

export const USAGE = { input: 100, output: 20 } as const;

const PACKAGE_JSON = JSON.stringify({ name: 'sum-app', version: '1.0.0', type: 'module', private: true, scripts: { test: 'node --test' } }, null, 2);
const SUM = 'export const sum = (a, b) => a + b;\n';
const SUM_TEST = "import test from 'node:test';\nimport assert from 'node:assert/strict';\nimport { sum } from './sum.js';\n\ntest('adds', () => assert.equal(sum(2, 3), 5));\n";

/** What the coder does, one tool call per model turn; the turn index is how many it already made. */
const CODER_TURNS: FakeTurn['toolCalls'][] = [
  [{ name: 'write_file', arguments: { path: 'package.json', content: PACKAGE_JSON } }],
  [{ name: 'write_file', arguments: { path: 'sum.js', content: SUM } }],
  [{ name: 'write_file', arguments: { path: 'sum.test.js', content: SUM_TEST } }],
  [{ name: 'finish', arguments: { summary: 'sum and its test written' } }],
];

interface ChatBody {
  tools?: { function?: { name?: string } }[];
  messages?: { role?: string; tool_calls?: unknown[] }[];
}

/**
 * Streams at the pace given (a first-byte delay and paced chunks) so that the
 * random kills land inside model calls as well as inside git commits and sandbox commands.
 */
export function tinyAppResponder(pace: { firstByteDelayMs: number; chunkDelayMs: number }): FakeResponder {
  return (request: RecordedRequest) => {
    const body = request.body as ChatBody | undefined;
    const tools = new Set((body?.tools ?? []).map((t) => t.function?.name));
    const paced = { usage: { ...USAGE }, chunkSize: 24, ...pace };
    if (tools.has('submit_plan')) {
      return { ...paced, toolCalls: [{ name: 'submit_plan', arguments: { summary: 'A sum function with a node:test test.', tasks: [{ id: 't1', title: 'Sum and its test', description: 'Write package.json, sum.js and sum.test.js' }] } }] };
    }
    if (tools.has('submit_architecture')) {
      const files = [{ path: 'sum.js', purpose: 'the function' }, { path: 'sum.test.js', purpose: 'its test' }, { path: 'package.json', purpose: 'scripts' }];
      // No install command: the app has no dependencies, and the sandbox then needs no network.
      return { ...paced, toolCalls: [{ name: 'submit_architecture', arguments: { stack: 'Node 20, ES modules, node:test', files, commands: { install: '', test: 'node --test', start: 'node sum.js' } } }] };
    }
    if (tools.has('write_file')) {
      const made = (body?.messages ?? []).filter((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0).length;
      return { ...paced, toolCalls: CODER_TURNS[Math.min(made, CODER_TURNS.length - 1)] };
    }
    return undefined;
  };
}

/** A request the fake server answered in full (what a provider bills): a 200 written to the end. */
export const answered = (r: RecordedRequest): boolean => r.status === 200 && !r.clientClosed && !r.cut && r.usage !== undefined && r.path.endsWith('/chat/completions');
