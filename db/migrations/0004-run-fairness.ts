import type { Migration } from './index.js';

/**
 * Run slots that one user cannot hog:
 * - plans.max_run_seconds: a run's wall-clock budget, counted from its first start (resumed
 *   attempts included); the run worker aborts the run when it is spent.
 * - plans.monthly_sandbox_seconds: the month's wall-clock seconds of sandbox commands, counted in
 *   usage_months.sandbox_ms (and per run in runs.sandbox_ms).
 * - jobs.group_key: whose job it is (a run's user); the claim takes the group with the fewest
 *   active jobs first, so one user's backlog never starves another's runs.
 * NULL limits mean "no limit", as for the other plan limits.
 */
export const runFairness: Migration = {
  version: 4,
  name: 'run-fairness',
  sql: /* sql */ `
ALTER TABLE plans
  ADD COLUMN max_run_seconds         integer CHECK (max_run_seconds > 0),
  ADD COLUMN monthly_sandbox_seconds bigint CHECK (monthly_sandbox_seconds >= 0);

UPDATE plans SET max_run_seconds = v.run_s, monthly_sandbox_seconds = v.sandbox_s
  FROM (VALUES ('free', 900, 3600), ('starter', 1800, 36000), ('pro', 3600, 180000), ('business', 7200, 720000))
       AS v (id, run_s, sandbox_s)
 WHERE plans.id = v.id;

ALTER TABLE usage_months ADD COLUMN sandbox_ms bigint NOT NULL DEFAULT 0 CHECK (sandbox_ms >= 0);
ALTER TABLE runs ADD COLUMN sandbox_ms bigint NOT NULL DEFAULT 0 CHECK (sandbox_ms >= 0);

ALTER TABLE jobs ADD COLUMN group_key text;
-- Enqueue order, to break ties: two jobs enqueued within one tick of the clock (PGlite's is
-- millisecond-coarse) have equal created_at, and turns within a group must follow enqueue order.
ALTER TABLE jobs ADD COLUMN enqueue_seq bigint GENERATED ALWAYS AS IDENTITY;
UPDATE jobs SET group_key = payload->>'userId' WHERE queue = 'runs' AND status IN ('queued', 'active');
-- The claim counts each group's live jobs.
CREATE INDEX jobs_group_active_idx ON jobs (queue, group_key) WHERE status = 'active' AND group_key IS NOT NULL;
`,
};
