/**
 * The project chat's `search` tool (agents/tools/read-tools.ts) on a generated workspace of
 * FILES source files (~4 KB each), against `grep -rniF` on the same tree, in the same run: the
 * time one model tool call adds to a chat answer. The search stops at its bounds (2,000 files,
 * 100 matches), so a rare query (which reads every file) is the worst case; a common one stops early.
 *
 *   npm run bench:chat-search        # FILES=2000 RUNS=7 by default
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { searchText } from '../agents/tools/read-tools.js';
import { LocalWorkspaceFiles } from '../workspaces/files.js';

const FILES = Number(process.env.FILES ?? 2000);
const RUNS = Number(process.env.RUNS ?? 7);
const WORDS = 'const let function return import export from await async if else for while class new this value result error data item index length push map filter reduce'.split(' ');

function generate(root: string): void {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `pkg${i % 40}`, `mod${i % 5}`);
    mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (let l = 0; l < 80; l++) lines.push(Array.from({ length: 8 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' '));
    // One rare identifier in every 500th file.
    if (i % 500 === 0) lines.push(`export function needleHandler${i}() {}`);
    writeFileSync(path.join(dir, `file${i}.ts`), lines.join('\n'));
  }
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const root = realpathSync(await mkdtemp(path.join(tmpdir(), 'samokoder-bench-chat-')));
try {
  generate(root);
  const files = new LocalWorkspaceFiles(root, 10 * 1024 * 1024);
  for (const [what, query] of [['rare (reads every file)', 'needlehandler'], ['common (stops at 100 matches)', 'reduce']] as const) {
    const ours = await time(() => searchText(files, query));
    const grep = await time(() => spawnSync('grep', ['-rniF', query, root], { encoding: 'utf8', maxBuffer: 1 << 30 }));
    console.log(`${what}: search p50 ${p50(ours).toFixed(0)} ms · grep -rniF p50 ${p50(grep).toFixed(0)} ms · ratio ${(p50(ours) / p50(grep)).toFixed(1)}×`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
