import type { Logger } from '../core/logger.js';
import type { Queryable } from '../db/port.js';
import type { WorkspaceStore } from '../workspaces/index.js';

/**
 * A workspace this much younger than now is never an orphan yet: whatever creates one may write
 * its folder a moment before (or commit its project row a moment after) — a sweep must not race it.
 */
export const ORPHAN_MIN_AGE_MS = 10 * 60_000;

/**
 * Removes the workspaces (and git directories) whose project row is gone: what a process that
 * died in the middle of a project delete (row deleted, files not yet) left behind. Safe on every
 * node at once and beside live traffic: a project with a row is never touched, nor a folder
 * modified in the last `minAgeMs`. Returns the project ids it removed.
 */
export async function sweepOrphanWorkspaces(deps: { db: Queryable; workspaces: WorkspaceStore; logger: Logger; now?: Date; minAgeMs?: number }): Promise<string[]> {
  const cutoff = (deps.now ?? new Date()).getTime() - (deps.minAgeMs ?? ORPHAN_MIN_AGE_MS);
  const candidates = (await deps.workspaces.list()).filter((w) => w.modifiedAt.getTime() <= cutoff).map((w) => w.projectId);
  if (candidates.length === 0) return [];
  const live = await deps.db.query<{ id: string }>('SELECT id::text AS id FROM projects WHERE id = ANY($1::uuid[])', [candidates]);
  const kept = new Set(live.rows.map((r) => r.id));
  const orphans = candidates.filter((id) => !kept.has(id));
  for (const projectId of orphans) await deps.workspaces.remove(projectId);
  if (orphans.length > 0) deps.logger.info({ removed: orphans.length, projectIds: orphans }, 'removed the workspaces of deleted projects');
  return orphans;
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
