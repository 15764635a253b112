import { lchown, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { SANDBOX_GID, SANDBOX_UID } from './settings.js';

/**
 * There is no user-namespace remapping: uid 10001 in the container is uid 10001 on the host. So
 * the mounted workspace must be writable by 10001, and what the container writes must stay
 * readable and modifiable by the service:
 * - service running as root (the Docker image, this CI): the tree is handed to 10001:10001
 *   (only entries not already owned; symlinks themselves, never their targets), and root can
 *   still read and change everything the container writes;
 * - service running as another user: commands run as 10001 with the service's primary group and
 *   umask 002, so the service can modify what they create; the operator makes the workspace
 *   group-writable for that group (docs/security.md, "Files and ownership").
 */
export async function prepareWorkspace(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await chownTree(dir);
}

/** The uid:gid commands run as. */
export function execUser(): string {
  const gid = process.getuid?.() === 0 ? SANDBOX_GID : (process.getgid?.() ?? SANDBOX_GID);
  return `${SANDBOX_UID}:${gid}`;
}

async function chownTree(p: string): Promise<void> {
  const st = await lstat(p);
  if (st.uid !== SANDBOX_UID || st.gid !== SANDBOX_GID) await lchown(p, SANDBOX_UID, SANDBOX_GID);
  if (!st.isDirectory()) return;
  const entries = await readdir(p);
  // Bounded fan-out: a big node_modules should not open thousands of handles at once.
  for (let i = 0; i < entries.length; i += 64) {
    await Promise.all(entries.slice(i, i + 64).map((e) => chownTree(path.join(p, e))));
  }
}
