/**
 * Import benchmark: a generated 2,000-file / 20 MB repository imported through the API (git
 * daemon on loopback, and the same tree as a ZIP upload), against what the bare tools take for
 * the same bytes: `git clone --depth 1` and Info-ZIP's `unzip`. Ours does more (checks every
 * entry, a bare clone then a checkout through a private index, the workspace's first commit), so
 * the ratio is the price of those checks and the commit.
 *
 *   npm run bench:import        # FILES=2000 MB=20 RUNS=3 by default
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerUser, startTestServer } from '../test/helpers/server.js';
import { git, repoRoot, startGitDaemon } from '../test/gitio/git-servers.js';

const FILES = Number(process.env.FILES ?? 2000);
const TOTAL_MB = Number(process.env.MB ?? 20);
const RUNS = Number(process.env.RUNS ?? 3);
const WORDS = 'const let function return import export from await async if else for while class new this value result'.split(' ');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const base = await mkdtemp(path.join(tmpdir(), 'sk-bench-import-'));
const tree = path.join(base, 'tree');
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let i = 0; i < FILES; i++) {
  const dir = path.join(tree, `pkg${i % 40}`, `mod${i % 5}`);
  mkdirSync(dir, { recursive: true });
  const size = Math.round(((TOTAL_MB * 1048576) / FILES) * (0.3 + 1.4 * rand()));
  let text = '';
  while (text.length < size) text += `${Array.from({ length: 6 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')} ${Math.floor(rand() * 1e6)};\n`;
  writeFileSync(path.join(dir, `file${i}.ts`), text.slice(0, size));
}
const repos = await repoRoot();
await git(['init', '--quiet', '--initial-branch=main'], tree);
await git(['add', '--all'], tree);
await git(['commit', '--quiet', '-m', 'bench'], tree);
await git(['clone', '--quiet', '--bare', tree, path.join(repos.dir, 'bench.git')], base);
rmSync(path.join(tree, '.git'), { recursive: true, force: true });
const zip = path.join(base, 'bench.zip');
execFileSync('zip', ['-qr', zip, '.'], { cwd: tree });
const daemon = await startGitDaemon(repos.dir);
const server = await startTestServer('pglite', { SAMOKODER_RUN_WORKER: false, SAMOKODER_SANDBOX: 'off', SAMOKODER_IMPORT_MAX_MB: 1024, SAMOKODER_IMPORT_MAX_FILES: 100_000, SAMOKODER_GENERATE_RATE_LIMIT_USER: 10_000, LOG_LEVEL: 'warn' });
const user = await registerUser((await import('../test/helpers/server.js')).apiClient(server.url));
await server.ctx.db.query("UPDATE users SET plan_id = 'unlimited' WHERE id = $1", [user.userId]);

async function importGit(): Promise<void> {
  const res = await fetch(`${server.url}/api/projects/import`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ gitUrl: `${daemon.url}bench.git` }) });
  if (res.status !== 201) throw new Error(`import: ${res.status} ${await res.text()}`);
}
async function importZip(): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(zip)]), 'bench.zip');
  const res = await fetch(`${server.url}/api/projects/import`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form });
  if (res.status !== 201) throw new Error(`import: ${res.status} ${await res.text()}`);
}
const results: Record<string, number[]> = { ours_git: [], clone: [], ours_zip: [], unzip: [] };
for (let r = 0; r < RUNS; r++) {
  const dest = path.join(base, `out${r}`);
  results.clone!.push(await timed(() => execFileSync('git', ['clone', '--quiet', '--depth=1', '--no-tags', `${daemon.url}bench.git`, `${dest}-clone`])));
  results.ours_git!.push(await timed(importGit));
  results.unzip!.push(await timed(() => execFileSync('unzip', ['-q', zip, '-d', `${dest}-unzip`])));
  results.ours_zip!.push(await timed(importZip));
}
const line = (label: string, ours: number[], theirs: number[], what: string) =>
  console.log(`${label.padEnd(18)} ours ${median(ours).toFixed(0).padStart(6)} ms   ${what} ${median(theirs).toFixed(0).padStart(6)} ms   ratio ${(median(ours) / median(theirs)).toFixed(2)}x   (n=${RUNS})`);
console.log(`${FILES} files, ${TOTAL_MB} MB`);
line('git import', results.ours_git!, results.clone!, 'git clone --depth 1');
line('ZIP import', results.ours_zip!, results.unzip!, 'unzip');
await server.close();
await daemon.stop();
await repos.cleanup();
rmSync(base, { recursive: true, force: true });
