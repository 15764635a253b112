import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalWorkspaceStore } from '../../workspaces/index.js';
import { expectHealthy, sandboxFixture } from './fixture.js';

const MIB = 1024 * 1024;
const QUOTA = 64 * MIB;
const fx = sandboxFixture();
let base: string;
let store: LocalWorkspaceStore;
const projects: string[] = [];

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'sk-sandbox-quota-'));
  store = new LocalWorkspaceStore({ root: path.join(base, 'workspaces'), maxFileBytes: MIB, quota: { setting: 'enforce', defaultBytes: QUOTA, reserveBytes: 0 } });
});
afterAll(async () => {
  await fx.cleanup();
  for (const id of projects) await store.remove(id);
  await rm(base, { recursive: true, force: true });
});

// Volumes need root and loop devices, as the service in this CI has.
const volumeTest = process.getuid?.() === 0 ? test : test.skip;

volumeTest('2 GiB written from the sandbox stop at the 64 MiB quota with ENOSPC; the host keeps its space and the sandbox answers after', async () => {
  const projectId = randomUUID();
  projects.push(projectId);
  const ws = await store.create(projectId);
  expect(ws.quota.mode).toBe('volume');
  const handle = await fx.sandbox.acquire(projectId, ws.dir);
  // The container sees the volume, not the directory under it: what it writes is the volume's.
  const seen = await handle.exec('echo from-the-sandbox > /workspace/marker.txt && df -B1 --output=size /workspace | tail -1');
  expect(seen.exitCode).toBe(0);
  expect(Number(seen.stdout.trim())).toBeLessThanOrEqual(QUOTA);
  expect(await readFile(path.join(ws.dir, 'marker.txt'), 'utf8')).toBe('from-the-sandbox\n');

  const dd = await handle.exec('dd if=/dev/urandom of=/workspace/big.bin bs=1M count=2048', { timeoutMs: 120_000 });
  expect(dd.timedOut).toBe(false);
  expect(dd.exitCode).not.toBe(0);
  expect(dd.stderr).toMatch(/No space left on device/);
  const big = await stat(path.join(ws.dir, 'big.bin'));
  expect(big.size).toBeLessThan(QUOTA);
  // Everything the project holds on the host is its image's allocated blocks.
  const image = await stat(path.join(base, 'workspaces', `${projectId}.img`));
  expect(image.blocks * 512).toBeLessThanOrEqual(QUOTA * 1.05);
  expect(await ws.quota.usage()).toMatchObject({ full: true, limitBytes: QUOTA });
  await expectHealthy(handle);

  // Deleting the file gives the space back to the workspace and, with discard, to the host.
  const rmr = await handle.exec('rm /workspace/big.bin && sync');
  expect(rmr.exitCode).toBe(0);
  expect(await ws.quota.usage()).toMatchObject({ full: false });
  // ext4 sends the discards when its journal commits (every few seconds), so the host's blocks
  // come back shortly after the delete, not at once.
  const given = image.blocks * 512 - 32 * MIB;
  let after = await stat(path.join(base, 'workspaces', `${projectId}.img`));
  for (let end = Date.now() + 30_000; after.blocks * 512 >= given && Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 500));
    after = await stat(path.join(base, 'workspaces', `${projectId}.img`));
  }
  expect(after.blocks * 512).toBeLessThan(given);
  await handle.release();
});
