import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import { AppError } from '../core/errors.js';
import type { QuotaUsage, WorkspaceQuota } from './port.js';

const execFileP = promisify(execFile);

/**
 * The operator's choice (SAMOKODER_WORKSPACE_QUOTA):
 * - `enforce`: every new workspace is a loop-mounted volume of its quota's size (loop-volume.ts):
 *   writes past it fail with ENOSPC, whoever makes them. Start-up fails when this host cannot mount.
 * - `best-effort` (default): volumes when this host can mount them, else `reactive`; the log and
 *   /readyz say which is active.
 * - `reactive`: no volumes; the workspace's size is measured after each agent command and before
 *   each commit, and the run stops with `workspace_quota` when it is over. The disk can fill
 *   between two checks: the free-space reserve is what protects the host then.
 * - `off`: no quota.
 */
export type QuotaSetting = 'enforce' | 'best-effort' | 'reactive' | 'off';

const MIB = 1024 * 1024;
/** A volume with less than this free counts as full: the next write of any size may fail. */
const VOLUME_FULL_MARGIN = MIB;
const DU_TIMEOUT_MS = 120_000;

export const mib = (bytes: number): string => `${Math.round((bytes / MIB) * 10) / 10} MiB`;

/** A volume's quota: the kernel holds the line, so usage is just the filesystem's own count. */
export function volumeQuota(dir: string, limitBytes: number): WorkspaceQuota {
  return {
    mode: 'volume',
    limitBytes,
    async usage(): Promise<QuotaUsage> {
      const s = await fsp.statfs(dir);
      const usedBytes = (s.blocks - s.bfree) * s.bsize;
      return { usedBytes, limitBytes, full: s.bavail * s.bsize < VOLUME_FULL_MARGIN };
    },
  };
}

/**
 * A measured quota: `du` of the workspace and its repository (blocks in use, hard links once, not
 * crossing into other filesystems), compared with the limit.
 */
export function reactiveQuota(dirs: readonly string[], limitBytes: number): WorkspaceQuota {
  return {
    mode: 'reactive',
    limitBytes,
    async usage(): Promise<QuotaUsage> {
      const usedBytes = await diskUsage(dirs);
      return { usedBytes, limitBytes, full: usedBytes >= limitBytes };
    },
  };
}

export const NO_QUOTA: WorkspaceQuota = {
  mode: 'off',
  limitBytes: Number.POSITIVE_INFINITY,
  usage: async () => ({ usedBytes: 0, limitBytes: Number.POSITIVE_INFINITY, full: false }),
};

async function diskUsage(dirs: readonly string[]): Promise<number> {
  const { stdout } = await execFileP('du', ['-s', '-x', '-B1', '-c', '--', ...dirs], { timeout: DU_TIMEOUT_MS, maxBuffer: 1 << 20 }).catch((err: { stdout?: string; code?: unknown }) => {
    // du exits 1 when an entry vanished while it counted (a command deleting files): its total
    // still stands for what it saw.
    if (typeof err.stdout === 'string' && /\ttotal\s*$/.test(err.stdout)) return { stdout: err.stdout };
    throw err;
  });
  const total = /^(\d+)\ttotal\s*$/m.exec(stdout);
  if (!total) throw new Error(`du printed no total: ${stdout.slice(0, 200)}`);
  return Number(total[1]);
}

/** The error a write or commit over the quota ends with. */
export function quotaExceeded(u: QuotaUsage, what: string, cause?: unknown): AppError {
  const limit = mib(u.limitBytes);
  return new AppError(
    'E_WORKSPACE_QUOTA',
    `${what}: the workspace is at its disk quota (${mib(u.usedBytes)} used of ${limit}, the git history included). Delete files it does not need (build output, downloads, large data) to go on.`,
    { details: { usedBytes: u.usedBytes, limitBytes: u.limitBytes }, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Whether an error (or one it was caused by: git's, a command's) is the filesystem being full. */
export function isNoSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; message?: unknown; stderr?: unknown };
    if (x.code === 'ENOSPC' || x.code === 'EDQUOT') return true;
    if (typeof x.message === 'string' && NO_SPACE_TEXT.test(x.message)) return true;
    if (typeof x.stderr === 'string' && NO_SPACE_TEXT.test(x.stderr)) return true;
  }
  return false;
}

/** strerror(ENOSPC) and strerror(EDQUOT) as programs print them, and git's own words for a failed pack write. */
export const NO_SPACE_TEXT = /No space left on device|Disk quota exceeded|Out of diskspace/i;
