import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalWorkspaceStore } from '../../workspaces/index.js';
import type { Workspace } from '../../workspaces/index.js';

export interface Sandbox {
  base: string;
  /** A directory beside the workspaces root with a sentinel file that must never change. */
  outside: string;
  sentinel: string;
  store: LocalWorkspaceStore;
  ws: Workspace;
  cleanup(): Promise<void>;
}

export const SENTINEL_TEXT = 'do not touch\n';

export async function makeSandbox(maxFileBytes = 64 * 1024): Promise<Sandbox> {
  const base = await mkdtemp(path.join(tmpdir(), 'samokoder-ws-'));
  const outside = path.join(base, 'outside');
  await mkdir(outside);
  const sentinel = path.join(outside, 'sentinel.txt');
  await writeFile(sentinel, SENTINEL_TEXT);
  const store = new LocalWorkspaceStore({ root: path.join(base, 'workspaces'), maxFileBytes });
  const ws = await store.create(randomUUID());
  return { base, outside, sentinel, store, ws, cleanup: () => rm(base, { recursive: true, force: true }) };
}
