import { AppError, notFound } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { JobQueue, type Job } from '../db/queue/job-queue.js';
import { enforceLimit, lockUserPlan } from '../db/repos/plan-limits.js';
import { inTransaction } from '../db/repos/transaction.js';
import { isUniqueViolation } from '../db/repos/users.js';
import type { ProjectEvent } from '../events/event-log.js';
import { appendEvent } from '../events/run-events.js';
import { RUNS_QUEUE, runJobKey, RunsRepo, type NewRun, type Run, type RunJobPayload } from './runs-repo.js';

export type EnqueueRunInput = NewRun & {
  /** Job retries when the worker crashes or the attempt fails (default 5). */
  maxAttempts?: number;
};

/** The project already has a queued or running run: a second one would reset its workspace under it. */
export function activeRunConflict(activeRunId: string | undefined): AppError {
  const which = activeRunId ? `run ${activeRunId} is` : 'a run is';
  return new AppError('E_CONFLICT', `This project already has an active run: ${which} still queued or running. Wait for it to finish or cancel it (POST …/runs/:runId/cancel), then start the next one.`, {
    details: activeRunId ? { activeRunId } : {},
  });
}

/**
 * Queues a run: the row, its job and `run.queued`, in one transaction, if the project has no
 * active run and the plan allows one more queued-or-running run. The user's row lock
 * (lockUserPlan) and the project's row lock serialise concurrent starts, so the count and the
 * one-active-run check see every run committed before; the partial unique index
 * runs_one_active_per_project holds the same rule for any other writer.
 * @throws E_NOT_FOUND (project or key not the user's), E_CONFLICT naming the project's active
 *   run, E_LIMIT naming the limit and the plan.
 */
export async function enqueueRun(db: Queryable, input: EnqueueRunInput): Promise<{ run: Run; job: Job<RunJobPayload>; event: ProjectEvent }> {
  return inTransaction(db, async (tx) => {
    const plan = await lockUserPlan(tx, input.userId);
    // Locking the project row: a concurrent project delete waits for this commit and then sees
    // (and cancels) the run. FOR UPDATE rather than FOR SHARE because run.queued below updates
    // the row anyway, and upgrading a shared lock is how two transactions deadlock.
    const project = await tx.query('SELECT 1 FROM projects WHERE id = $1 AND user_id = $2 FOR UPDATE', [input.projectId, input.userId]);
    // rows.length, not rowCount: the PGlite adapter reports rowCount 0 for every SELECT.
    if (project.rows.length === 0) throw notFound('project');
    if (input.keyId !== null) {
      const key = await tx.query('SELECT 1 FROM api_keys WHERE id = $1 AND user_id = $2', [input.keyId, input.userId]);
      if (key.rows.length === 0) throw notFound('API key');
    }
    const runs = new RunsRepo(tx);
    const active = await runs.activeInProject(input.projectId);
    if (active) throw activeRunConflict(active.id);
    enforceLimit(plan, 'max_concurrent_runs', await runs.countActive(input.userId));
    const run = await runs.insert(input).catch((err: unknown) => {
      throw isUniqueViolation(err) ? activeRunConflict(undefined) : err;
    });
    const job = await new JobQueue(tx).enqueue<RunJobPayload>({
      queue: RUNS_QUEUE,
      payload: { runId: run.id, projectId: run.projectId, userId: run.userId },
      singletonKey: runJobKey(run.id),
      // Claims take turns across users: one user's backlog never starves another's run.
      groupKey: run.userId,
      maxAttempts: input.maxAttempts ?? 5,
    });
    // A fresh run id cannot have a job yet; undefined would mean the key scheme is broken.
    if (!job) throw new Error(`run ${run.id} already has an unfinished job`);
    const event = await appendEvent(tx, {
      projectId: run.projectId,
      runId: run.id,
      type: 'run.queued',
      data: { kind: run.kind, provider: run.provider, model: run.model },
    });
    return { run, job, event };
  });
}
