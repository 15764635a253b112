import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import type { LlmRequest } from '../llm/providers/port.js';
import { estimateUsage } from '../usage/estimated-usage.js';

/**
 * What billing a call without reported usage costs the gateway (usage/estimated-usage.ts): the
 * tokenizer's one-time load, then the count of a prompt as a coder turn sends it, at three sizes.
 * The prompt is real code (this repository's sources), since code is what the agents send.
 * `npm run bench:estimate [-- REPEATS]`.
 */
const REPEATS = Number(process.argv[2] ?? 20);
const SOURCES = ['llm/llm-gateway.ts', 'agents/pipeline/tool-loop.ts', 'usage/usage-ledger.ts', 'db/repos/usage-ledger-repo.ts', 'scripts/fake-llm/server.ts'];
const code = SOURCES.map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8')).join('\n');

function request(chars: number): LlmRequest {
  let content = '';
  while (content.length < chars) content += code;
  return { model: 'm', system: 'You are the coder.', messages: [{ role: 'user', content: content.slice(0, chars) }], maxOutputTokens: 8192 };
}
const answer = { text: '', reasoning: '', toolCalls: [{ id: 'c', name: 'write_file', arguments: JSON.stringify({ path: 'a.ts', content: code.slice(0, 4000) }) }] };

const loadStart = performance.now();
await estimateUsage(request(10), answer);
const load = performance.now() - loadStart;

const rows: string[][] = [];
for (const kb of [10, 100, 400]) {
  const req = request(kb * 1000);
  const times: number[] = [];
  let tokens = 0;
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    tokens = (await estimateUsage(req, answer)).inputTokens;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  rows.push([`${kb} KB`, String(tokens), (kb * 1000 / tokens).toFixed(2), times[Math.floor(times.length / 2)]!.toFixed(1), times[Math.floor(times.length * 0.9)]!.toFixed(1)]);
}

console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; tokenizer load (first call) ${load.toFixed(0)} ms; ${REPEATS} repeats`);
console.log('| Prompt | Tokens | Characters per token | p50 ms | p90 ms |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
