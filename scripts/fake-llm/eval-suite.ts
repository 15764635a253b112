import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Suite } from '../../evals/suite.js';
import type { FakeResponder, FakeTurn, RecordedRequest } from './server.js';

/**
 * The scripted model of the evaluation's own test: it "solves" a suite's specs by writing each
 * spec's reference/ solution, and fails the specs it is told to on purpose by writing their
 * wrong/ solution (whose own tests pass, so the run succeeds and only the hidden acceptance tests
 * catch it). It recognises the spec from the request: the planner sees the spec's prompt; every
 * later step sees the plan, whose summary carries the spec's id.
 */

/** Tokens each answer reports: fixed, so the report's token counts are known in advance. */
export const EVAL_USAGE = { input: 100, output: 20 } as const;

interface ChatBody {
  tools?: { function?: { name?: string }; name?: string }[];
  messages?: { role?: string; content?: unknown; tool_calls?: unknown[] }[];
  system?: unknown;
}

const marker = (id: string): string => `[eval:${id}]`;

/**
 * `fail`: specs answered with their wrong solution. `viaFixer`: specs whose coder writes nothing,
 * so verify fails (a bug-fix spec's start project has a failing test) and the fixer's first round
 * writes the solution.
 */
export function evalSuiteResponder(suite: Suite, options: { fail?: readonly string[]; viaFixer?: readonly string[] } = {}): FakeResponder {
  const fail = new Set(options.fail ?? []);
  const viaFixer = new Set(options.viaFixer ?? []);
  const solutions = new Map(suite.specs.map((s) => [s.id, filesOf(path.join(s.dir, fail.has(s.id) ? 'wrong' : 'reference'))]));
  return (request: RecordedRequest) => {
    const body = request.body as ChatBody | undefined;
    const tools = new Set((body?.tools ?? []).map((t) => t.function?.name ?? t.name));
    const text = (body?.messages ?? []).map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join('\n');
    const spec = suite.specs.find((s) => text.includes(marker(s.id))) ?? suite.specs.find((s) => text.includes(s.prompt));
    if (!spec) return undefined;
    const files = solutions.get(spec.id)!;
    const turn = (toolCalls: FakeTurn['toolCalls']): FakeTurn => ({ usage: { ...EVAL_USAGE }, chunkSize: 256, toolCalls });
    if (tools.has('submit_plan')) {
      return turn([{ name: 'submit_plan', arguments: { summary: `${marker(spec.id)} ${spec.title}.`, tasks: [{ id: 't1', title: spec.title, description: `Write ${files.map((f) => f.path).join(', ')}` }] } }]);
    }
    if (tools.has('submit_architecture')) {
      const server = files.some((f) => f.path === 'server.js');
      return turn([{ name: 'submit_architecture', arguments: { stack: 'Node 20, ES modules, node:test, no dependencies', files: files.map((f) => ({ path: f.path, purpose: 'from the plan' })), commands: { install: '', test: 'node --test', start: server ? 'node server.js' : '' } } }]);
    }
    if (tools.has('write_file')) {
      if (viaFixer.has(spec.id) && !text.includes('## Failure (fix round')) return turn([{ name: 'finish', arguments: { summary: 'nothing to change' } }]);
      // One file per turn, then finish: the turn index is how many tool calls this step made so far.
      const made = (body?.messages ?? []).filter((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0).length;
      const file = files[made];
      return turn(file ? [{ name: 'write_file', arguments: { path: file.path, content: file.content } }] : [{ name: 'finish', arguments: { summary: `${spec.id}: ${files.length} files written` } }]);
    }
    return undefined;
  };
}

function filesOf(dir: string, prefix = ''): { path: string; content: string }[] {
  const out: { path: string; content: string }[] = [];
  for (const name of readdirSync(path.join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(path.join(dir, rel)).isDirectory()) out.push(...filesOf(dir, rel));
    else out.push({ path: rel, content: readFileSync(path.join(dir, rel), 'utf8') });
  }
  return out;
}
