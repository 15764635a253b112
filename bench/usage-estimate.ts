import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import type { LlmRequest, Message } from '../llm/providers/port.js';
import { estimateUsage } from '../usage/estimated-usage.js';

/**
 * What billing a call without reported usage costs the gateway (usage/estimated-usage.ts): the
 * tokenizer's one-time load; a first call whose prompt is all new, at three sizes; and the next turn
 * of a tool loop, which resends that prompt with one new 4 KB tool result. The text is real code
 * (this repository's sources), since code is what the agents send.
 * `npm run bench:estimate [-- REPEATS]`.
 */
const REPEATS = Number(process.argv[2] ?? 20);
const SOURCES = ['llm/llm-gateway.ts', 'agents/pipeline/tool-loop.ts', 'usage/usage-ledger.ts', 'db/repos/usage-ledger-repo.ts', 'scripts/fake-llm/server.ts'];
const code = SOURCES.map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8')).join('\n');

/** `kb` KB of conversation in 4 KB messages, each made unique by `salt` so nothing is remembered across sizes or repeats. */
function conversation(kb: number, salt: string): Message[] {
  return Array.from({ length: Math.ceil(kb / 4) }, (_, i) => ({ role: 'user' as const, content: `${salt} ${i}\n${code.slice((i * 4000) % (code.length - 4000)).slice(0, 4000)}` }));
}
const request = (messages: Message[]): LlmRequest => ({ model: 'm', system: 'You are the coder.', messages, maxOutputTokens: 8192 });
const answer = { text: '', reasoning: '', toolCalls: [{ id: 'c', name: 'write_file', arguments: JSON.stringify({ path: 'a.ts', content: code.slice(0, 2000) }) }] };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(req: LlmRequest): Promise<{ ms: number; tokens: number }> {
  const start = performance.now();
  const usage = await estimateUsage(req, answer);
  return { ms: performance.now() - start, tokens: usage.inputTokens };
}

const loadStart = performance.now();
await estimateUsage(request([{ role: 'user', content: 'warm up' }]), answer);
const load = performance.now() - loadStart;

const rows: string[][] = [];
for (const kb of [12, 100, 400]) {
  const first: number[] = [];
  const next: number[] = [];
  let tokens = 0;
  for (let i = 0; i < REPEATS; i++) {
    const messages = conversation(kb, `${kb}-${i}`);
    const cold = await timed(request(messages));
    tokens = cold.tokens;
    first.push(cold.ms);
    next.push((await timed(request([...messages, ...conversation(4, `next-${kb}-${i}`)]))).ms);
  }
  rows.push([`${kb} KB`, String(tokens), ((kb * 1000) / tokens).toFixed(2), median(first).toFixed(1), median(next).toFixed(1)]);
}

console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; tokenizer load (first call) ${load.toFixed(0)} ms; ${REPEATS} repeats, medians`);
console.log('| Prompt | Tokens | Characters per token | first call, ms | next turn (+4 KB), ms |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
