import { applyEdits } from '../agents/pipeline/edit-file.js';
import { compactHistory, LOOP_HISTORY } from '../agents/pipeline/history-compaction.js';
import { CODER_PROMPT } from '../agents/prompts/index.js';
import { READ_CAP_CHARS, readWindow } from '../agents/tools/read-tools.js';
import { WORKSPACE_TOOL_SPECS } from '../agents/tools/schemas.js';
import { createLanguageModel } from '../llm/providers/index.js';
import type { Message, ToolCall, Usage } from '../llm/providers/port.js';
import { startFakeLlm, type FakeTurn } from '../scripts/fake-llm/server.js';

/**
 * What a targeted edit saves, through the real SDK and the fake server's usage (one output token
 * per 4 characters streamed: the turns use chunkSize 4):
 * 1. a one-line change in a 3,000-line file: the output tokens of the edit_file call against a
 *    write_file of the whole changed file (both applied — the edit with the real edit engine — and
 *    checked to give the same file); target ≤ 5 %;
 * 2. the prompt of a 30-turn coder loop that reads a different 3,000-line file every turn, with the
 *    real read_file window and history compaction: the request body at turn 30 against turn 1;
 *    target ≤ 3×.
 * `npm run bench:edits`.
 */
const LINES = 3_000;
const TURNS = 30;

/** A medium-sized module: 3,000 lines of plausible JavaScript (functions of ten lines each). */
function bigFile(seed: string): string {
  const lines: string[] = [];
  for (let f = 0; lines.length < LINES; f++) {
    lines.push(
      `export function ${seed}Handler${f}(input, options = {}) {`,
      `  const limit = options.limit ?? ${100 + (f % 50)};`,
      `  if (!Array.isArray(input)) throw new TypeError('${seed}Handler${f}: input must be an array');`,
      `  const out = [];`,
      `  for (const item of input.slice(0, limit)) {`,
      `    if (item && typeof item === 'object') out.push({ ...item, handledBy: '${seed}Handler${f}' });`,
      `  }`,
      `  return out;`,
      `}`,
      ``,
    );
  }
  return lines.slice(0, LINES).join('\n') + '\n';
}

const fake = await startFakeLlm();
const model = createLanguageModel({ provider: 'openai-compatible', apiKey: 'sk-bench', baseUrl: fake.baseUrls['openai-compatible'] }, { baseUrls: fake.baseUrls, allowPrivateBaseUrls: true });

/** One coder call answered with `toolCall`; returns the usage the fake server reported. */
async function call(messages: Message[], toolCall: { name: string; arguments: Record<string, unknown> }): Promise<{ usage: Usage; call: ToolCall; bodyChars: number }> {
  const turn: FakeTurn = { toolCalls: [toolCall], chunkSize: 4 };
  fake.setScript({ turns: [turn] });
  const res = await model.complete({ model: 'fake-model', system: CODER_PROMPT.text, messages, tools: WORKSPACE_TOOL_SPECS, toolChoice: 'required', maxOutputTokens: 64_000 });
  const sent = fake.requests.at(-1)!;
  return { usage: res.usage, call: res.toolCalls[0]!, bodyChars: JSON.stringify(sent.body).length };
}

// ── 1. A one-line change: edit_file against a whole-file rewrite ──
const path = 'src/handlers.js';
const original = bigFile('order');
const before = `  const limit = options.limit ?? ${100 + (150 % 50)};`;
const target = original.split('\n').findIndex((l, i) => i > 1500 && l === before);
const lines = original.split('\n');
const search = lines.slice(target - 1, target + 1).join('\n');
const replace = search.replace(before, `  const limit = Math.min(options.limit ?? ${100 + (150 % 50)}, 500);`);
const changed = original.replace(search, replace);
/** The coder's first message as the context builder shapes it: plan, tree, task, the named file cut at 8,000 characters. */
const tree = Array.from({ length: 40 }, (_, i) => `src/module${i + 1}.js`).concat(path, 'package.json', 'README.md', 'AGENTS.md').join('\n');
const firstMessage = [
  '## Plan\nCap the handlers\' limits.\n\nTasks:\n- [current] t1: Cap the limit',
  `## Workspace files\n${tree}`,
  `## Your task: t1\nCap every handler's limit at 500, starting with orderHandler150 in ${path}.`,
  `## Files this task names\n### ${path}\n\`\`\`\n${original.slice(0, 8_000)}\n… (cut)\n\`\`\``,
].join('\n\n');
const context: Message[] = [{ role: 'user', content: firstMessage }];

const edit = await call(context, { name: 'edit_file', arguments: { path, edits: [{ search, replace }] } });
const write = await call(context, { name: 'write_file', arguments: { path, content: changed } });
const applied = applyEdits(original, (JSON.parse(edit.call.arguments) as { edits: { search: string; replace: string }[] }).edits);
if (!applied.ok || applied.content !== changed) throw new Error('the edit does not give the same file as the rewrite');
if ((JSON.parse(write.call.arguments) as { content: string }).content !== changed) throw new Error('the rewrite did not arrive whole');

// ── 2. Prompt size over a 30-turn tool loop ──
const messages: Message[] = [{ role: 'user', content: context[0]!.content }];
const bodies: number[] = [];
for (let turn = 1; turn <= TURNS; turn++) {
  compactHistory(messages);
  const file = `src/module${turn}.js`;
  const r = await call(messages, { name: 'read_file', arguments: { path: file } });
  bodies.push(r.bodyChars);
  messages.push({ role: 'assistant', content: '', toolCalls: [r.call] });
  messages.push({ role: 'tool', toolCallId: r.call.id, name: 'read_file', content: readWindow(file, bigFile(`m${turn}`)) });
}
await fake.close();

const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(2)} %`;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`Targeted edits vs whole-file rewrites (fake LLM through the openai SDK), Node ${process.version}`);
console.log(`1. one-line change in a ${LINES}-line file (${kb(original.length)}):`);
console.log(`   edit_file   output tokens ${String(edit.usage.outputTokens).padStart(7)}`);
console.log(`   write_file  output tokens ${String(write.usage.outputTokens).padStart(7)}`);
console.log(`   edit / rewrite: ${pct(edit.usage.outputTokens, write.usage.outputTokens)} (target ≤ 5 %)`);
const { verbatimChars, shortenedTurns } = LOOP_HISTORY;
console.log(`2. a ${TURNS}-turn loop reading a ${LINES}-line file each turn (a read shows ≤ ${READ_CAP_CHARS} characters; results kept whole up to ${verbatimChars} characters, ${shortenedTurns} turns shortened, older ones listed):`);
console.log(`   request body turn 1 ${kb(bodies[0]!)}, turn 10 ${kb(bodies[9]!)}, turn ${TURNS} ${kb(bodies[TURNS - 1]!)}, max ${kb(Math.max(...bodies))}`);
console.log(`   turn ${TURNS} / turn 1: ${(bodies[TURNS - 1]! / bodies[0]!).toFixed(2)}× (target ≤ 3×); max / turn 1: ${(Math.max(...bodies) / bodies[0]!).toFixed(2)}×`);
