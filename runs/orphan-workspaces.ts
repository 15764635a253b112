import type { Logger } from '../core/logger.js';
import type { Queryable } from '../db/port.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { ProjectTombstones } from './project-tombstones.js';

/** Tombstones handled per sweep; a larger backlog is the next sweep's. */
const SWEEP_BATCH = 500;

/**
 * Removes the workspaces (and git directories) of deleted projects that are still on disk: what
 * a process that died in the middle of a project delete (row deleted, files not yet) or a failed
 * removal left behind. Only projects this database recorded as deleted (project_tombstones) are
 * touched — never a folder it knows nothing of — and removing is idempotent, so every node may
 * sweep at once. Returns the project ids it cleaned up.
 */
export async function sweepOrphanWorkspaces(deps: { db: Queryable; workspaces: WorkspaceStore; logger: Logger }): Promise<string[]> {
  const tombstones = new ProjectTombstones(deps.db);
  const done: string[] = [];
  for (const projectId of await tombstones.list(SWEEP_BATCH)) {
    await deps.workspaces.remove(projectId);
    await tombstones.remove(projectId);
    done.push(projectId);
  }
  if (done.length > 0) deps.logger.info({ removed: done.length, projectIds: done }, 'removed the workspaces left by interrupted project deletes');
  return done;
}

/** The sweep at start-up and then every `intervalMs`; a failed sweep is logged and the next one tries again. */
export function startOrphanWorkspaceSweeper(deps: { db: Queryable; workspaces: WorkspaceStore; logger: Logger; intervalMs: number }): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = sweepOrphanWorkspaces(deps).catch((err: unknown) => deps.logger.warn({ err }, 'the sweep of orphan workspaces failed'));
  };
  sweep();
  const timer = setInterval(sweep, deps.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
