import { closeSync, constants, openSync, promises as fsp, readlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../core/errors.js';

/**
 * The filesystem half of path safety. Node has no openat(), so the service walks every component
 * itself: each intermediate directory is lstat'ed (a symlink is refused, never followed), the
 * final component is opened with O_NOFOLLOW, and on Linux the opened descriptor's real location
 * (/proc/self/fd) is compared with the expected path, which closes the window in which a sandboxed
 * process swaps a checked directory for a symlink.
 */

const { O_NOFOLLOW, O_NONBLOCK } = constants;

export const pathUnsafe = (rel: string, why: string): AppError =>
  new AppError('E_PATH_UNSAFE', `Path refused (${why}): ${JSON.stringify(rel)}`, { details: { reason: why } });

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Returns the absolute directory holding the last segment, checking (and, with `create`, making)
 * each parent directory one component at a time. Throws E_PATH_UNSAFE on a symlink, E_NOT_FOUND
 * on a missing parent (without `create`), E_VALIDATION when a parent is not a directory.
 */
export async function checkedParentDir(root: string, segments: readonly string[], rel: string, create: boolean): Promise<string> {
  let dir = root;
  for (const name of segments.slice(0, -1)) {
    dir = path.join(dir, name);
    let st = await fsp.lstat(dir).catch((err: unknown) => {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!st && create) {
      // mkdir never follows a symlink in the last component: if one was planted meanwhile,
      // EEXIST sends us back to lstat, which refuses it.
      await fsp.mkdir(dir, { mode: 0o755 }).catch((err: unknown) => {
        if (errno(err) !== 'EEXIST') throw err;
      });
      st = await fsp.lstat(dir);
    }
    if (!st) throw new AppError('E_NOT_FOUND', `No such file: ${rel}`);
    if (st.isSymbolicLink()) throw pathUnsafe(rel, 'leads through a symlink');
    if (!st.isDirectory()) throw new AppError('E_VALIDATION', `A parent of ${rel} is not a directory`);
  }
  return dir;
}

/** Opens the final component without following a symlink (and without blocking on a FIFO). */
export async function openNoFollow(abs: string, rel: string, flags: number, mode?: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(abs, flags | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (err) {
    throw openError(err, rel);
  }
  try {
    assertOpenedAt(handle.fd, abs, rel);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/**
 * The same, synchronously, returning a raw descriptor: the export opens thousands of small
 * files, and one ~10 µs syscall on the main thread is much cheaper than a thread-pool round trip
 * (the event loop still turns between files, while their deflate runs on the pool).
 */
export function openNoFollowSync(abs: string, rel: string, flags: number): number {
  let fd: number;
  try {
    fd = openSync(abs, flags | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    throw openError(err, rel);
  }
  try {
    assertOpenedAt(fd, abs, rel);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

function openError(err: unknown, rel: string): unknown {
  const code = errno(err);
  // Linux reports ELOOP for O_NOFOLLOW on a symlink; some systems use EMLINK.
  if (code === 'ELOOP' || code === 'EMLINK') return pathUnsafe(rel, 'is a symlink');
  if (code === 'ENOENT') return new AppError('E_NOT_FOUND', `No such file: ${rel}`);
  if (code === 'EISDIR') return new AppError('E_VALIDATION', `${rel} is a directory`);
  if (code === 'ENOTDIR') return new AppError('E_VALIDATION', `A parent of ${rel} is not a directory`);
  return err;
}

let procFdUsable: boolean | undefined;

/**
 * Linux only: the kernel's view of where the descriptor really lives must be `abs`. A readlink
 * of /proc/self/fd is a cheap syscall that never blocks, so it is done synchronously.
 */
function assertOpenedAt(fd: number, abs: string, rel: string): void {
  if (procFdUsable === false) return;
  let real: string;
  try {
    real = readlinkSync(`/proc/self/fd/${fd}`);
    procFdUsable = true;
  } catch {
    procFdUsable = false; // not Linux, or /proc not mounted: the lstat walk is the defence
    return;
  }
  if (real !== abs) throw pathUnsafe(rel, 'resolves outside its expected location');
}
