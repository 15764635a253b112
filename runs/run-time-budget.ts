import type { Queryable } from '../db/port.js';
import { TimeBudgetExceeded } from '../agents/pipeline/run-stop.js';

/** setTimeout's longest delay; a budget further away than this (~24 days) is not armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Arms the run's wall-clock budget for this attempt: the plan's max_run_seconds counted from the
 * run's first start (started_at), so time spent in earlier attempts counts and a run cannot
 * outlive its budget by being resumed. Elapsed time is read on the database's clock, the one
 * that wrote started_at, so a node whose clock drifts measures the same. When the budget is spent
 * `onSpent` gets the abort reason — at once if it already is. The plan is read when the attempt
 * starts; a plan change applies from the next attempt.
 * @returns disarms the timer (call when the attempt ends).
 */
export async function armTimeBudget(db: Queryable, runId: string, onSpent: (reason: TimeBudgetExceeded) => void): Promise<() => void> {
  const res = await db.query<{ plan_name: string; max_run_seconds: number | null; elapsed_ms: string | number | null }>(
    `SELECT p.name AS plan_name, p.max_run_seconds,
            extract(epoch FROM now() - coalesce(r.started_at, now())) * 1000 AS elapsed_ms
       FROM runs r JOIN users u ON u.id = r.user_id JOIN plans p ON p.id = u.plan_id
      WHERE r.id = $1`,
    [runId],
  );
  const row = res.rows[0];
  if (!row || row.max_run_seconds === null) return () => undefined;
  const reason = new TimeBudgetExceeded(row.plan_name, row.max_run_seconds);
  const remainingMs = row.max_run_seconds * 1000 - Number(row.elapsed_ms ?? 0);
  if (remainingMs <= 0) {
    onSpent(reason);
    return () => undefined;
  }
  if (remainingMs > MAX_TIMER_MS) return () => undefined;
  const timer = setTimeout(() => onSpent(reason), remainingMs);
  return () => clearTimeout(timer);
}
