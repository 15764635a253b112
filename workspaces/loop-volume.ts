import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/**
 * A project's workspace volume: a sparse ext4 image file, sized to the project's quota and
 * loop-mounted, so the kernel refuses writes past the quota (ENOSPC) whoever writes — the sandbox,
 * the files API, git. Layout under the workspaces root, for project `<id>`:
 *
 *   <id>.img        the image (sparse: it takes host space only for blocks in use)
 *   .volumes/<id>   where the image is mounted; it holds `work/` and `git/`
 *   <id>            bind mount of .volumes/<id>/work  (the workspace; what the sandbox mounts)
 *   <id>.git        bind mount of .volumes/<id>/git   (the repository, beside and outside it)
 *
 * The two paths the rest of the service uses stay what they are without a volume, and the
 * repository stays out of the sandbox's reach, while both count against the one quota. ext4's
 * lost+found stays at the volume's root, outside both.
 *
 * Mounting and unmounting are short shell scripts of util-linux tools run under flock(1) on a lock
 * file beside the image, so two service processes on one host never mount a volume twice.
 */
export interface VolumePaths {
  readonly image: string;
  readonly lock: string;
  readonly volume: string;
  readonly dir: string;
  readonly gitDir: string;
}

export function volumePaths(root: string, projectId: string): VolumePaths {
  return {
    image: path.join(root, `${projectId}.img`),
    lock: path.join(root, `${projectId}.img.lock`),
    volume: path.join(root, '.volumes', projectId),
    dir: path.join(root, projectId),
    gitDir: path.join(root, `${projectId}.git`),
  };
}

/**
 * mkfs options: no blocks reserved for root (the service runs as root: the limit must be the same
 * for it as for the sandbox's uid); one inode per 4 KiB block, since a node_modules tree is mostly
 * small files and the default ratio (one per 16 KiB) would run out of inodes long before bytes.
 */
const MKFS_OPTIONS = ['-q', '-F', '-m', '0', '-i', '4096', '-I', '256'];
/** discard: a deleted file's blocks are punched out of the sparse image, so the host gets them back. */
const MOUNT_OPTIONS = 'loop,nosuid,nodev,discard';

/** Exit status of the mount script when there is no image to mount (and none may be created). */
const NO_IMAGE = 3;

const MOUNT_SCRIPT = `
set -eu
img=$1 vol=$2 dir=$3 git=$4 size=$5 create=$6
shift 6
if [ ! -e "$img" ]; then
  [ "$create" = create ] || exit ${NO_IMAGE}
  # Never hide an existing plain workspace under a new volume.
  if [ -n "$(ls -A "$dir" 2>/dev/null)" ] || [ -e "$git/HEAD" ]; then exit ${NO_IMAGE}; fi
  truncate -s "$size" "$img.tmp"
  mkfs.ext4 "$@" "$img.tmp"
  mv "$img.tmp" "$img"
fi
mkdir -p "$vol" "$dir" "$git"
mountpoint -q "$vol" || mount -o ${MOUNT_OPTIONS} "$img" "$vol"
mkdir -p "$vol/work" "$vol/git"
mountpoint -q "$dir" || mount --bind "$vol/work" "$dir"
mountpoint -q "$git" || mount --bind "$vol/git" "$git"
`;

/** A mount still in use (a container not yet gone) is detached lazily: it goes when its last user does. */
const UNMOUNT_SCRIPT = `
set -u
vol=$1 dir=$2 git=$3
for m in "$dir" "$git" "$vol"; do
  if mountpoint -q "$m"; then umount "$m" 2>/dev/null || umount -l "$m" || exit 1; fi
done
`;

const SCRIPT_TIMEOUT_MS = 120_000;

async function underLock(lock: string, script: string, args: readonly string[]): Promise<void> {
  await execFileP('flock', ['-w', '60', lock, 'sh', '-c', script, 'sh', ...args], { timeout: SCRIPT_TIMEOUT_MS });
}

/**
 * Mounts the project's volume (creating a `sizeBytes` image first when `create` and there is none).
 * Returns false when there is no volume and none was created: no image and `create` false, or a
 * plain (pre-quota) workspace already exists there.
 */
export async function mountVolume(p: VolumePaths, options: { create: boolean; sizeBytes: number }): Promise<boolean> {
  await fsp.mkdir(path.dirname(p.volume), { recursive: true });
  try {
    await underLock(p.lock, MOUNT_SCRIPT, [p.image, p.volume, p.dir, p.gitDir, String(options.sizeBytes), options.create ? 'create' : 'open', ...MKFS_OPTIONS]);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === NO_IMAGE) return false;
    throw err;
  }
}

/** Unmounts the volume (when mounted) and deletes its image and mount point; no error when absent. */
export async function destroyVolume(p: VolumePaths): Promise<void> {
  if (await exists(p.image)) {
    await underLock(p.lock, UNMOUNT_SCRIPT, [p.volume, p.dir, p.gitDir]);
    await fsp.rm(p.image, { force: true });
  }
  await fsp.rm(`${p.image}.tmp`, { force: true });
  await fsp.rmdir(p.volume).catch(() => undefined);
  await fsp.rm(p.lock, { force: true });
}

export async function hasVolume(p: VolumePaths): Promise<boolean> {
  return exists(p.image);
}

/** Whether `dir` is a mount point (its device differs from its parent's, or it is a bind of the same device). */
export async function isMountPoint(dir: string): Promise<boolean> {
  return execFileP('mountpoint', ['-q', dir]).then(
    () => true,
    () => false,
  );
}

/**
 * Whether this process can make volumes: root, loop devices, the tools, and a real mount of a
 * small throw-away image in `root` works. Resolves with the reason when it cannot.
 */
export async function probeVolumes(root: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: `loop mounts need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'loop mounts need the service to run as root' };
  if (!(await exists('/dev/loop-control'))) return { ok: false, reason: 'no loop device support (/dev/loop-control is missing)' };
  // Dot names: never a project id (those are uuids), and left out of nothing that matters.
  const probe = volumePaths(root, `.probe-${process.pid}`);
  try {
    await fsp.mkdir(root, { recursive: true });
    await fsp.rm(probe.dir, { recursive: true, force: true });
    if (!(await mountVolume(probe, { create: true, sizeBytes: 4 * 1024 * 1024 }))) return { ok: false, reason: 'the probe volume could not be created' };
    if (!(await isMountPoint(probe.dir))) return { ok: false, reason: 'the probe volume did not mount' };
    return { ok: true };
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return { ok: false, reason: `a probe loop mount failed: ${(e.stderr || e.message || String(err)).trim().slice(0, 300)}` };
  } finally {
    await destroyVolume(probe).catch(() => undefined);
    await fsp.rm(probe.dir, { recursive: true, force: true }).catch(() => undefined);
    await fsp.rm(probe.gitDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}
