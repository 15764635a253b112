import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalWorkspaceStore, type QuotaSetting } from '../../workspaces/index.js';
import { isMountPoint, probeVolumes } from '../../workspaces/loop-volume.js';

const MIB = 1024 * 1024;
const bases: string[] = [];
const stores: { store: LocalWorkspaceStore; ids: string[] }[] = [];

async function makeStore(setting: QuotaSetting, options: { defaultMb?: number; reserveBytes?: number } = {}): Promise<{ store: LocalWorkspaceStore; root: string; create(quotaMb?: number): ReturnType<LocalWorkspaceStore['create']> }> {
  const base = await mkdtemp(path.join(tmpdir(), 'samokoder-quota-'));
  bases.push(base);
  const root = path.join(base, 'workspaces');
  const store = new LocalWorkspaceStore({ root, maxFileBytes: 128 * MIB, quota: { setting, defaultBytes: (options.defaultMb ?? 64) * MIB, reserveBytes: options.reserveBytes ?? 0 } });
  const entry = { store, ids: [] as string[] };
  stores.push(entry);
  return {
    store,
    root,
    create: (quotaMb) => {
      const id = randomUUID();
      entry.ids.push(id);
      return store.create(id, quotaMb ? { quotaBytes: quotaMb * MIB } : {});
    },
  };
}

afterAll(async () => {
  // Removing each project unmounts its volume; only then can the directories go.
  for (const { store, ids } of stores) for (const id of ids) await store.remove(id).catch(() => undefined);
  for (const b of bases) await rm(b, { recursive: true, force: true });
});

// Volumes need root and loop devices (this CI has both); elsewhere only the measured mode is tested.
const canMount = process.getuid?.() === 0;
const volumeTest = canMount ? test : test.skip;

volumeTest('a volume workspace: the workspace and its repository are one loop-mounted filesystem of the quota; a write past it is refused with E_WORKSPACE_QUOTA', async () => {
  const { store, create } = await makeStore('best-effort');
  expect(await store.quotaStatus()).toEqual({ setting: 'best-effort', active: 'volume' });
  const ws = await create(64);
  expect(ws.quota.mode).toBe('volume');
  expect(await isMountPoint(ws.dir)).toBe(true);
  expect(await isMountPoint(`${ws.dir}.git`)).toBe(true);
  expect((await stat(ws.dir)).dev).toBe((await stat(`${ws.dir}.git`)).dev);
  // Sparse: the image takes far less of the host than its size.
  const img = await stat(`${ws.dir}.img`);
  expect(img.size).toBe(64 * MIB);
  expect(img.blocks * 512).toBeLessThan(32 * MIB);
  // ext4's lost+found stays outside the workspace.
  expect(await readdir(ws.dir)).toEqual([]);

  await ws.files.writeFile('ok.bin', randomBytes(4 * MIB));
  await expect(ws.files.writeFile('big.bin', randomBytes(70 * MIB))).rejects.toMatchObject({ code: 'E_WORKSPACE_QUOTA', message: expect.stringMatching(/disk quota .* of 64 MiB/) });
  // The half-written temporary file was removed with the failed write.
  expect((await readdir(ws.dir)).sort()).toEqual(['ok.bin']);
  const u = await ws.quota.usage();
  expect(u.limitBytes).toBe(64 * MIB);
  expect(u.usedBytes).toBeLessThan(16 * MIB);
});

volumeTest('a commit that would not fit fails with E_WORKSPACE_QUOTA and stores nothing; after the file is deleted the next commit succeeds', async () => {
  const { create } = await makeStore('enforce');
  const ws = await create(64);
  const head = await ws.history.headSha();
  // 40 MiB of incompressible data fits once, not twice (the file and its git object).
  await writeFile(path.join(ws.dir, 'data.bin'), randomBytes(40 * MIB));
  await expect(ws.history.commitAll('too big')).rejects.toMatchObject({ code: 'E_WORKSPACE_QUOTA' });
  expect(await ws.history.headSha()).toBe(head);
  // The failed add's half-written pack does not keep holding the space.
  expect((await readdir(path.join(`${ws.dir}.git`, 'objects', 'pack'))).filter((n) => n.startsWith('tmp_'))).toEqual([]);
  await rm(path.join(ws.dir, 'data.bin'));
  await ws.files.writeFile('small.txt', 'fits');
  const sha = await ws.history.commitAll('small');
  expect(sha).not.toBe(head);
  expect((await ws.history.history({ limit: 1 }))[0]!.subject).toBe('small');
});

volumeTest('an unmounted volume (a reboot) is mounted again when the workspace is opened, with its files', async () => {
  const { store, create } = await makeStore('best-effort');
  const ws = await create();
  await ws.files.writeFile('kept.txt', 'still here');
  await ws.history.commitAll('kept');
  for (const m of [ws.dir, `${ws.dir}.git`, path.join(path.dirname(ws.dir), '.volumes', ws.projectId)]) execFileSync('umount', [m]);
  expect(await isMountPoint(ws.dir)).toBe(false);
  expect(await store.exists(ws.projectId)).toBe(true);
  const again = await store.open(ws.projectId);
  expect(again.quota.mode).toBe('volume');
  expect(await isMountPoint(ws.dir)).toBe(true);
  expect(await again.files.readFile('kept.txt')).toMatchObject({ content: 'still here' });
  expect((await again.history.history({ limit: 1 }))[0]!.subject).toBe('kept');
});

volumeTest('removing the project unmounts the volume, detaches its loop device and deletes the image', async () => {
  const { store, root, create } = await makeStore('best-effort');
  const ws = await create();
  const image = `${ws.dir}.img`;
  expect(execFileSync('losetup', ['-j', image], { encoding: 'utf8' })).toContain(image);
  await store.remove(ws.projectId);
  expect(execFileSync('losetup', ['-j', image], { encoding: 'utf8' })).toBe('');
  expect(await isMountPoint(ws.dir)).toBe(false);
  expect((await readdir(root)).filter((n) => n.startsWith(ws.projectId))).toEqual([]);
  expect(await readdir(path.join(root, '.volumes'))).toEqual([]);
  expect(await store.exists(ws.projectId)).toBe(false);
});

volumeTest('the probe of a volume-capable host leaves nothing behind', async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'samokoder-probe-'));
  bases.push(base);
  expect(await probeVolumes(base)).toEqual({ ok: true });
  expect((await readdir(base)).filter((n) => n !== '.volumes')).toEqual([]);
  expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' })).not.toContain(base);
});

test('measured (reactive) quota: a write that would cross it and a commit of a workspace over it fail with E_WORKSPACE_QUOTA; deleting files recovers', async () => {
  const { store, create } = await makeStore('reactive', { defaultMb: 8 });
  expect(await store.quotaStatus()).toEqual({ setting: 'reactive', active: 'reactive' });
  const ws = await create();
  expect(ws.quota).toMatchObject({ mode: 'reactive', limitBytes: 8 * MIB });
  expect(await isMountPoint(ws.dir)).toBe(false);
  await expect(ws.files.writeFile('big.bin', randomBytes(9 * MIB))).rejects.toMatchObject({ code: 'E_WORKSPACE_QUOTA' });
  const head = await ws.history.headSha();
  // What a sandboxed command writes is not stopped, but it is never committed.
  await writeFile(path.join(ws.dir, 'big.bin'), randomBytes(9 * MIB));
  expect(await ws.quota.usage()).toMatchObject({ full: true });
  await expect(ws.history.commitAll('over')).rejects.toMatchObject({ code: 'E_WORKSPACE_QUOTA', details: { limitBytes: 8 * MIB } });
  expect(await ws.history.headSha()).toBe(head);
  await ws.files.deleteFile('big.bin');
  await ws.files.writeFile('small.txt', 'fits');
  await expect(ws.history.commitAll('under')).resolves.toMatch(/^[0-9a-f]{40}$/);
});

test('a reactive quota given at create is kept for the workspace; off means no quota at all', async () => {
  const { store, create } = await makeStore('reactive', { defaultMb: 8 });
  const ws = await create(16);
  expect((await store.open(ws.projectId)).quota.limitBytes).toBe(16 * MIB);
  const off = await makeStore('off');
  const free = await off.create(16);
  expect(free.quota.mode).toBe('off');
  await writeFile(path.join(free.dir, 'big.bin'), randomBytes(20 * MIB));
  await expect(free.history.commitAll('no quota')).resolves.toMatch(/^[0-9a-f]{40}$/);
});

test('the free-space reserve: E_DISK_RESERVE (503, retryable) when the disk has less free than the reserve; nothing below it', async () => {
  const low = await makeStore('off', { reserveBytes: Number.MAX_SAFE_INTEGER });
  await expect(low.store.checkReserve()).rejects.toMatchObject({ code: 'E_DISK_RESERVE', status: 503, isRetryable: true, message: expect.stringMatching(/low on disk space .*SAMOKODER_DISK_RESERVE_MB/) });
  const ok = await makeStore('off', { reserveBytes: MIB });
  await expect(ok.store.checkReserve()).resolves.toBeUndefined();
});
