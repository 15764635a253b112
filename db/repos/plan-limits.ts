import { AppError, notFound } from '../../core/errors.js';
import type { Queryable } from '../port.js';

export interface LockedPlan {
  planId: string;
  planName: string;
  maxProjects: number | null;
  maxConcurrentRuns: number | null;
}

/**
 * Locks the user's row (FOR UPDATE) for the rest of the caller's transaction and returns the
 * plan's limits. Every "count, then insert if under the limit" for one user takes this lock
 * first, so concurrent creates of that user queue up here and each counts the rows committed by
 * the one before it: the limit cannot be overshot. Other users are not blocked.
 */
export async function lockUserPlan(tx: Queryable, userId: string): Promise<LockedPlan> {
  const res = await tx.query<{ plan_id: string; name: string; max_projects: number | null; max_concurrent_runs: number | null }>(
    `SELECT u.plan_id, p.name, p.max_projects, p.max_concurrent_runs
     FROM users u JOIN plans p ON p.id = u.plan_id
     WHERE u.id = $1
     FOR UPDATE OF u`,
    [userId],
  );
  const row = res.rows[0];
  if (!row) throw notFound('user');
  return { planId: row.plan_id, planName: row.name, maxProjects: row.max_projects, maxConcurrentRuns: row.max_concurrent_runs };
}

/** E_LIMIT when `current` already reaches `max` (null = unlimited). */
export function enforceLimit(plan: LockedPlan, limit: 'max_projects' | 'max_concurrent_runs', current: number): void {
  const max = limit === 'max_projects' ? plan.maxProjects : plan.maxConcurrentRuns;
  if (max === null || current < max) return;
  const what = limit === 'max_projects' ? `${max} project${max === 1 ? '' : 's'}` : `${max} concurrent run${max === 1 ? '' : 's'}`;
  throw new AppError('E_LIMIT', `limit_exceeded: the ${plan.planName} plan allows ${what} (${limit})`, {
    details: { limit, plan: plan.planId, max, current },
  });
}
