/**
 * Install benchmark: `npm install` of a realistic app (express and mocha, ~160 packages, no
 * lockfile, as a generated project starts) through the sandbox's package cache, against the
 * real registry (the configured upstream).
 *   cold:      the first project, with an empty cache (a fresh cache directory each run)
 *   warm:      a second project with the same dependencies (another container, the same cache)
 *   host warm: `npm install` on the host with a warm npm cache (its own cache directory), with
 *              npm's defaults (revalidates packuments) and with --prefer-offline
 * Targets: warm ≤ 0.2× cold; warm ≤ 1.5× host warm.
 *
 *   npm run bench:install            # RUNS=3 by default; SAMOKODER_SANDBOX_IMAGE picks the image
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { createDockerSandbox, type DockerSandbox } from '../sandbox/docker-sandbox.js';
import { sandboxSettingsFromConfig } from '../sandbox/settings.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 3);
const PACKAGE_JSON = JSON.stringify({
  name: 'bench-app',
  version: '1.0.0',
  private: true,
  scripts: { test: 'mocha' },
  dependencies: { express: '5.1.0' },
  devDependencies: { mocha: '11.7.1' },
});
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error'];
const config = loadConfig();
const base = { ...sandboxSettingsFromConfig(config), extraLabels: { 'samokoder.bench': '1' } };
const logger = createLogger({ level: 'warn' });
const root = await mkdtemp(path.join(tmpdir(), 'sk-bench-install-'));
let seq = 0;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function appDir(): Promise<string> {
  const dir = await mkdtemp(path.join(root, `app${seq++}-`));
  await writeFile(path.join(dir, 'package.json'), PACKAGE_JSON);
  return dir;
}

/**
 * One project's install in the sandbox; the cache is started beforehand so only the install is
 * timed. `floor`: then again with npm's own cache in the container warm and --offline, i.e. npm's
 * work alone, no registry at all (what no cache can beat).
 */
async function sandboxInstall(sandbox: DockerSandbox, id: string, floor = false): Promise<{ ms: number; packages: number; floorMs?: number }> {
  const ws = await appDir();
  const h = await sandbox.acquire(id, ws);
  try {
    await h.exec('true', { network: 'registry' });
    const r = await h.exec(`npm install ${NPM_FLAGS.join(' ')}`, { network: 'registry', timeoutMs: 600_000 });
    if (r.exitCode !== 0) throw new Error(`npm install failed in the sandbox: ${r.stderr.slice(-2000)}`);
    const packages = (await readdir(path.join(ws, 'node_modules'))).filter((n) => !n.startsWith('.')).length;
    if (!floor) return { ms: r.durationMs, packages };
    await h.exec('rm -rf node_modules package-lock.json');
    // Same registry setting (npm's cache keys carry the registry URL); --offline makes no request.
    const f = await h.exec(`npm install --offline ${NPM_FLAGS.join(' ')}`, { network: 'registry', timeoutMs: 600_000 });
    if (f.exitCode !== 0) throw new Error(`npm install --offline failed in the sandbox: ${f.stderr.slice(-2000)}`);
    return { ms: r.durationMs, packages, floorMs: f.durationMs };
  } finally {
    await h.destroy();
  }
}

async function hostInstall(dir: string, cache: string, extra: string[] = []): Promise<number> {
  await rm(path.join(dir, 'node_modules'), { recursive: true, force: true });
  await rm(path.join(dir, 'package-lock.json'), { force: true });
  const t = performance.now();
  await run('npm', ['install', ...NPM_FLAGS, `--cache=${cache}`, ...extra], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  return performance.now() - t;
}

const cold: number[] = [];
const warm: number[] = [];
const floor: number[] = [];
let packages = 0;
const sandboxes: DockerSandbox[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    // A fresh cache directory: the first project finds the cache empty.
    const dir = await mkdtemp(path.join(root, 'cache-'));
    const sandbox = createDockerSandbox({ settings: { ...base, packageCache: { ...base.packageCache, dir } }, logger });
    sandboxes.push(sandbox);
    const first = await sandboxInstall(sandbox, `bench-install-cold-${i}`);
    cold.push(first.ms);
    packages = first.packages;
    const second = await sandboxInstall(sandbox, `bench-install-warm-${i}`, true);
    warm.push(second.ms);
    floor.push(second.floorMs!);
    await sandbox.close();
  }

  const hostDir = await appDir();
  const hostCache = path.join(root, 'host-npm-cache');
  const hostCold = await hostInstall(hostDir, hostCache);
  const hostWarm: number[] = [];
  const hostOffline: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    hostWarm.push(await hostInstall(hostDir, hostCache));
    hostOffline.push(await hostInstall(hostDir, hostCache, ['--prefer-offline']));
  }

  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  console.log(`\nInstall benchmark — ${packages} packages (express 5.1.0 + mocha 11.7.1), upstream ${new URL(base.packageCache.upstream).host}, ${RUNS} runs, load ${load} (medians)\n`);
  console.log('| Measure | Median | Runs | Ratio | Target |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(`| Sandbox, first project (empty cache) | ${fmt(median(cold))} | ${cold.map(fmt).join(', ')} | — | — |`);
  console.log(`| Sandbox, second project (warm cache) | ${fmt(median(warm))} | ${warm.map(fmt).join(', ')} | ${(median(warm) / median(cold)).toFixed(2)}× cold | ≤ 0.2× cold |`);
  console.log(`| Sandbox, npm's own cache warm, --offline (npm's work alone) | ${fmt(median(floor))} | ${floor.map(fmt).join(', ')} | warm sandbox ${(median(warm) / median(floor)).toFixed(2)}× this | — |`);
  console.log(`| Host, warm npm cache (npm's defaults) | ${fmt(median(hostWarm))} | ${hostWarm.map(fmt).join(', ')} | warm sandbox ${(median(warm) / median(hostWarm)).toFixed(2)}× this | ≤ 1.5× |`);
  console.log(`| Host, warm npm cache, --prefer-offline | ${fmt(median(hostOffline))} | ${hostOffline.map(fmt).join(', ')} | warm sandbox ${(median(warm) / median(hostOffline)).toFixed(2)}× this | — |`);
  console.log(`| Host, empty npm cache (for reference) | ${fmt(hostCold)} | 1 | — | — |`);
} finally {
  await Promise.allSettled(sandboxes.map((s) => s.close()));
  await rm(root, { recursive: true, force: true });
}
