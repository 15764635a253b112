import { promises as fsp } from 'node:fs';
import { AppError } from '../core/errors.js';
import { mib } from './disk-quota.js';

/**
 * The host free-space reserve (SAMOKODER_DISK_RESERVE_MB): below it, nothing new that writes to
 * the workspaces' filesystem starts (projects, runs), so the disk does not fill up under the
 * database, the logs and the runs already going. Volumes are sparse, so the quotas of all
 * projects together may exceed the disk: this check is what keeps that overcommit safe.
 * A reserve of 0 turns the check off.
 */
export async function checkDiskReserve(root: string, reserveBytes: number): Promise<void> {
  if (reserveBytes <= 0) return;
  const s = await fsp.statfs(root);
  const freeBytes = s.bavail * s.bsize;
  if (freeBytes >= reserveBytes) return;
  throw new AppError(
    'E_DISK_RESERVE',
    `The server is low on disk space (${mib(freeBytes)} free, the reserve is ${mib(reserveBytes)}): new projects and runs are refused until an operator frees space (SAMOKODER_DISK_RESERVE_MB sets the reserve).`,
    { details: { freeBytes, reserveBytes }, retryAfterSeconds: 300 },
  );
}
