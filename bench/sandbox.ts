/**
 * Sandbox benchmark, on the same image in one run: our Docker adapter (dockerode,
 * full hardening) against the docker CLI.
 *   cold:     acquire + first exec of `true`      vs `docker run --rm --network none IMAGE true`
 *   warm:     acquire of a prewarmed project (p50/p99)
 *   exec:     round trip of `true` on a started container  vs `docker exec CID true`
 *   parallel: 20 execs at once on 20 started containers (throughput)
 *
 *   npm run bench:sandbox            # RUNS=10 by default; SAMOKODER_SANDBOX_IMAGE picks the image
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { createDockerSandbox } from '../sandbox/docker-sandbox.js';
import { sandboxSettingsFromConfig } from '../sandbox/settings.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 10);
const config = loadConfig();
const settings = { ...sandboxSettingsFromConfig(config), extraLabels: { 'samokoder.bench': '1' } };
const IMAGE = settings.image;
const sandbox = createDockerSandbox({ settings, logger: createLogger({ level: 'warn' }) });
const root = await mkdtemp(path.join(tmpdir(), 'sk-bench-sandbox-'));
let seq = 0;
const workspace = async (): Promise<string> => mkdtemp(path.join(root, `ws${seq++}-`));

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const series = async (n: number, fn: (i: number) => Promise<number>): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
};

try {
  // Warm-up: the first create after a daemon start is slower for both.
  await run('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true']);
  const warmup = await sandbox.acquire('bench-warmup', await workspace());
  await warmup.exec('true');
  await warmup.destroy();

  // Cold, interleaved so both see the same machine state.
  const coldOurs: number[] = [];
  const coldCli: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ws = await workspace();
    let handle: Awaited<ReturnType<typeof sandbox.acquire>> | undefined;
    coldOurs.push(await time(async () => {
      handle = await sandbox.acquire(`bench-cold-${i}`, ws);
      await handle.exec('true');
    }));
    await handle?.destroy();
    coldCli.push(await time(() => run('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true'])));
  }

  // Warm: prewarmed project, acquire + release.
  await sandbox.prewarm('bench-warm', await workspace());
  const wsWarm = await workspace();
  await sandbox.prewarm('bench-warm-2', wsWarm);
  const warm = await series(RUNS * 5, async () => {
    let handle: Awaited<ReturnType<typeof sandbox.acquire>> | undefined;
    const t = await time(async () => (handle = await sandbox.acquire('bench-warm-2', wsWarm)));
    await handle?.release();
    return t;
  });

  // Exec round trip on one started container.
  const h = await sandbox.acquire('bench-exec', await workspace());
  await h.exec('true');
  const execOurs: number[] = [];
  const execCli: number[] = [];
  for (let i = 0; i < RUNS * 3; i++) {
    execOurs.push(await time(() => h.exec('true')));
    execCli.push(await time(() => run('docker', ['exec', '-u', '10001', h.containerId, 'true'])));
  }

  // 20 parallel execs on 20 started containers.
  const handles = await Promise.all(Array.from({ length: 20 }, async (_, i) => sandbox.acquire(`bench-par-${i}`, await workspace())));
  await Promise.all(handles.map((x) => x.exec('true')));
  const parallel = await time(() => Promise.all(handles.map((x) => x.exec('true'))));
  const parallelCli = await time(() => Promise.all(handles.map((x) => run('docker', ['exec', '-u', '10001', x.containerId, 'true']))));

  const row = (name: string, ours: number[], cli: number[] | undefined, target: string): string => {
    const p50 = pct(ours, 50);
    const c50 = cli ? pct(cli, 50) : NaN;
    return `| ${name} | ${p50.toFixed(1)} | ${pct(ours, 99).toFixed(1)} | ${cli ? c50.toFixed(1) : '—'} | ${cli ? (p50 / c50).toFixed(2) + '×' : '—'} | ${target} |`;
  };
  console.log(`\nSandbox benchmark — image ${IMAGE}, ${RUNS} runs (ms)\n`);
  console.log('| Measure | ours p50 | ours p99 | docker CLI p50 | ratio | target |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(row('cold: acquire + first exec vs `docker run --rm`', coldOurs, coldCli, '≤ 1.0×'));
  console.log(row('warm-pool acquire', warm, undefined, 'p50 ≤ 20 ms'));
  console.log(row('exec round trip of `true` vs `docker exec`', execOurs, execCli, '≤ 0.7×'));
  console.log(
    `| 20 parallel execs (20 containers) | ${parallel.toFixed(0)} total, ${(20_000 / parallel).toFixed(0)} execs/s | — | ${parallelCli.toFixed(0)} total, ${(20_000 / parallelCli).toFixed(0)} execs/s | ${(parallel / parallelCli).toFixed(2)}× | — |`,
  );
} finally {
  await sandbox.close();
  await rm(root, { recursive: true, force: true });
}
