/**
 * Workspace volume benchmark (needs root and loop devices):
 *   create:  a new project's workspace with a volume of 64 MiB / 512 MiB / 4 GiB (image, mkfs,
 *            loop mount, two bind mounts, git init + first commit) against a plain directory
 *   remount: opening a volume workspace that is not mounted (after a reboot)
 *   remove:  unmount + delete image, against rm of a plain directory
 *   commit:  a step's commit (5 of 200 files changed) in a volume workspace against a plain one
 *   du:      what a measured (reactive) quota costs per check, on a tree of 20,000 small files
 *
 *   npm run bench:volumes     # RUNS=10 by default
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalWorkspaceStore, type QuotaSetting, type Workspace } from '../workspaces/index.js';

const RUNS = Number(process.env.RUNS ?? 10);
const MIB = 1024 * 1024;
const base = await mkdtemp(path.join(tmpdir(), 'sk-bench-quota-'));
const stores: { store: LocalWorkspaceStore; ids: string[] }[] = [];

function storeOf(setting: QuotaSetting): { store: LocalWorkspaceStore; create(bytes?: number): Promise<Workspace> } {
  const store = new LocalWorkspaceStore({ root: path.join(base, setting), maxFileBytes: MIB, quota: { setting, defaultBytes: 512 * MIB, reserveBytes: 0 } });
  const entry = { store, ids: [] as string[] };
  stores.push(entry);
  return {
    store,
    create: (bytes) => {
      const id = randomUUID();
      entry.ids.push(id);
      return store.create(id, bytes ? { quotaBytes: bytes } : {});
    },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
async function series(n: number, fn: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}
const report = (label: string, xs: number[]): void => console.log(`${label.padEnd(44)} median ${median(xs).toFixed(1).padStart(8)} ms   (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})`);

async function fill(ws: Workspace, files: number): Promise<void> {
  for (let i = 0; i < files; i++) await ws.files.writeFile(`src/m${i}.js`, `export const v${i} = ${i};\n`.repeat(40));
  await ws.history.commitAll('seed');
}

async function commits(ws: Workspace): Promise<number[]> {
  let round = 0;
  return series(RUNS * 2, async () => {
    round++;
    for (let i = 0; i < 5; i++) await ws.files.writeFile(`src/m${(round * 5 + i) % 200}.js`, `export const changed = ${round};\n`);
    return time(() => ws.history.commitAll(`step ${round}`));
  });
}

try {
  const volume = storeOf('enforce');
  const plain = storeOf('off');
  await volume.store.quotaStatus();
  console.log(`workspace volumes: ${RUNS} runs each; load average ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`);
  report('create, plain directory', await series(RUNS, () => time(() => plain.create())));
  for (const mb of [64, 512, 4096]) report(`create, volume of ${mb} MiB`, await series(RUNS, () => time(() => volume.create(mb * MIB))));

  const remountWs = await volume.create(64 * MIB);
  const root = path.dirname(remountWs.dir);
  report(
    'remount (open after an unmount)',
    await series(RUNS, async () => {
      for (const m of [remountWs.dir, `${remountWs.dir}.git`, path.join(root, '.volumes', remountWs.projectId)]) execFileSync('umount', [m]);
      return time(() => volume.store.open(remountWs.projectId));
    }),
  );
  report('open, already mounted', await series(RUNS, () => time(() => volume.store.open(remountWs.projectId))));

  const plainWs = await plain.create();
  const volumeWs = await volume.create(512 * MIB);
  await fill(plainWs, 200);
  await fill(volumeWs, 200);
  report('commit (5 of 200 files changed), plain', await commits(plainWs));
  report('commit (5 of 200 files changed), volume', await commits(volumeWs));

  report('remove, plain directory', await series(RUNS, async () => {
    const { projectId } = await plain.create();
    return time(() => plain.store.remove(projectId));
  }));
  report('remove, volume (unmount + delete image)', await series(RUNS, async () => {
    const { projectId } = await volume.create(64 * MIB);
    return time(() => volume.store.remove(projectId));
  }));

  // The largest commit a 512 MiB quota lets through: a file of ~200 MiB that does not compress
  // (its git object needs as much again). That git add runs on the host, bounded by the quota.
  const bigWs = await volume.create(512 * MIB);
  execFileSync('dd', ['if=/dev/urandom', `of=${path.join(bigWs.dir, 'big.bin')}`, 'bs=1M', 'count=200'], { stdio: 'ignore' });
  report('commit of a 200 MiB random file, volume', [await time(() => bigWs.history.commitAll('big'))]);

  const measured = storeOf('reactive');
  const big = await measured.create();
  for (let d = 0; d < 100; d++) {
    const dir = path.join(big.dir, 'node_modules', `pkg${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: 200 }, (_, i) => writeFile(path.join(dir, `f${i}.js`), 'module.exports = 1;\n')));
  }
  report('measured quota check (du), 20,000 files', await series(RUNS, () => time(() => big.quota.usage())));
} finally {
  for (const { store, ids } of stores) for (const id of ids) await store.remove(id).catch(() => undefined);
  await rm(base, { recursive: true, force: true });
}
