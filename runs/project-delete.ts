import { AppError, notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { ProjectsRepo } from '../db/repos/projects.js';
import type { SandboxPort } from '../sandbox/port.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { notifyCancel } from './cancel-channel.js';
import { ProjectTombstones } from './project-tombstones.js';
import { RunsRepo } from './runs-repo.js';

/** A per-user cache that must forget the user's data when a project goes (e.g. the project-list pages). */
export interface UserScopedCache {
  drop(userId: string): void;
}

export interface ProjectDeleteDeps {
  db: Database;
  logger: Logger;
  workspaces: WorkspaceStore;
  /** Undefined when SAMOKODER_SANDBOX=off (there are no containers then). */
  sandbox: SandboxPort | undefined;
  caches: readonly UserScopedCache[];
}

/**
 * Deletes a project and everything it has, in an order where a failure at any step leaves either
 * the whole project (the delete can be retried) or no project row (and the rest is cleaned up):
 * 1. the active run is cancelled (a queued one ends at once; a running one is told to stop), so
 *    no worker goes on writing into the workspace or starting containers for it;
 * 2. its sandbox containers are removed, on whichever node: an engine that cannot be reached
 *    fails the delete here with E_SANDBOX_UNAVAILABLE, with the row, files and history intact;
 * 3. the row goes with its runs, steps and events (usage rows stay), the jobs of any run queued
 *    since step 1 are cancelled and their workers told, and a tombstone is written, in one
 *    transaction;
 * 4. the workspace and its git directory are removed, then the tombstone. If that fails (or the
 *    process dies before it), the orphan-workspace sweep (orphan-workspaces.ts) finds the
 *    tombstone and removes them.
 * @throws E_NOT_FOUND when the project is missing or another user's.
 */
export async function deleteProject(deps: ProjectDeleteDeps, projectId: string, userId: string): Promise<void> {
  const { db, logger } = deps;
  if (!(await new ProjectsRepo(db).get(projectId, userId))) throw notFound('Project');
  const runs = new RunsRepo(db);
  const active = await runs.activeInProject(projectId);
  if (active) await runs.requestCancel(active.id, userId);
  try {
    await deps.sandbox?.removeProject?.(projectId);
  } catch (err) {
    logger.warn({ err, projectId }, 'project delete refused: its sandbox containers could not be removed');
    throw new AppError('E_SANDBOX_UNAVAILABLE', 'The project was not deleted (only its active run, if any, was cancelled): its sandbox containers could not be removed (the Docker engine did not answer). Try again when the sandbox is back.', {
      cause: err,
    });
  }
  const deleted = await db.transaction(async (tx) => {
    const d = await new ProjectsRepo(tx).delete(projectId, userId);
    if (!d) return undefined;
    await notifyCancel(tx, d.activeRunIds);
    await new ProjectTombstones(tx).add(projectId);
    return d;
  });
  // A concurrent delete of the same project won the race: it does the rest.
  if (!deleted) throw notFound('Project');
  for (const cache of deps.caches) cache.drop(userId);
  try {
    await deps.workspaces.remove(projectId);
    await new ProjectTombstones(db).remove(projectId);
  } catch (err) {
    logger.error({ err, projectId }, 'project deleted, but its workspace could not be removed yet; the orphan-workspace sweep will');
  }
  const stoppedRuns = [...new Set([...(active ? [active.id] : []), ...deleted.activeRunIds])];
  logger.info({ projectId, userId, stoppedRuns: stoppedRuns.length }, 'project deleted');
}
