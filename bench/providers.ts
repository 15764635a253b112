import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { createLanguageModel } from '../llm/providers/index.js';
import { startFakeLlm } from '../scripts/fake-llm/server.js';

/**
 * The provider layer's overhead per streamed call, against the `openai` SDK called directly: same
 * fake server, same run, same ~200-delta stream with no delays. Calls alternate between the two so
 * drift (GC, JIT, the machine) hits both alike. `npm run bench:providers [-- CALLS]`.
 */
const CALLS = Number(process.argv[2] ?? 300);
const WARMUP = 30;
const DELTAS = 200;

const fake = await startFakeLlm({ script: { defaultTurn: { text: 'word '.repeat(DELTAS), chunkSize: 5, usage: { input: 50, output: DELTAS } } } });
const sdk = new OpenAI({ apiKey: 'sk-bench', baseURL: fake.baseUrls.openai, maxRetries: 0 });
const model = createLanguageModel({ provider: 'openai', apiKey: 'sk-bench' }, { baseUrls: fake.baseUrls });
const messages = [{ role: 'user' as const, content: 'bench' }];

async function direct(): Promise<number> {
  let deltas = 0;
  const stream = await sdk.chat.completions.create({ model: 'fake-model', messages, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas++;
  return deltas;
}

async function layered(): Promise<number> {
  let deltas = 0;
  for await (const part of model.stream({ model: 'fake-model', system: 'bench', messages, maxOutputTokens: 1000 })) {
    if (part.type === 'text-delta') deltas++;
  }
  return deltas;
}

async function time(fn: () => Promise<number>): Promise<number> {
  const start = performance.now();
  const deltas = await fn();
  if (deltas !== DELTAS) throw new Error(`expected ${DELTAS} deltas, got ${deltas}`);
  return performance.now() - start;
}

const samples = { direct: [] as number[], layered: [] as number[] };
for (let i = 0; i < WARMUP; i++) {
  await time(direct);
  await time(layered);
}
for (let i = 0; i < CALLS; i++) {
  // Alternate which goes first, so neither always runs on a warmer connection.
  if (i % 2 === 0) {
    samples.direct.push(await time(direct));
    samples.layered.push(await time(layered));
  } else {
    samples.layered.push(await time(layered));
    samples.direct.push(await time(direct));
  }
}
await fake.close();

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: at(0.5), p99: at(0.99) };
};
const d = stats(samples.direct);
const l = stats(samples.layered);
const fmt = (n: number) => `${n.toFixed(3)} ms`.padStart(11);
console.log(`Provider layer vs openai SDK direct: ${CALLS} streamed calls each (${DELTAS} deltas, no delay), Node ${process.version}`);
console.log(`${''.padEnd(22)}${'mean'.padStart(11)}${'p50'.padStart(11)}${'p99'.padStart(11)}`);
console.log(`${'openai SDK direct'.padEnd(22)}${fmt(d.mean)}${fmt(d.p50)}${fmt(d.p99)}`);
console.log(`${'createLanguageModel'.padEnd(22)}${fmt(l.mean)}${fmt(l.p50)}${fmt(l.p99)}`);
console.log(`${'ratio (layer/direct)'.padEnd(22)}${(l.mean / d.mean).toFixed(3).padStart(11)}${(l.p50 / d.p50).toFixed(3).padStart(11)}${(l.p99 / d.p99).toFixed(3).padStart(11)}`);
console.log(`overhead per call (mean): ${(l.mean - d.mean).toFixed(3)} ms`);
