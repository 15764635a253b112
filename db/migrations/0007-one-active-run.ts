import type { Migration } from './index.js';

/**
 * At most one queued-or-running run per project: a second one would reset the workspace under
 * the first (runs/enqueue-run.ts refuses it with E_CONFLICT; this index holds the rule for any
 * writer). A database that already holds several active runs of one project keeps the newest;
 * the older ones are cancelled first (their jobs too, and a worker still executing one sees its
 * cancel flag), so the index can always be created.
 *
 * And project_tombstones: the ids of deleted projects whose workspace may still be on disk (a
 * process died between the row's delete and the files'); the orphan-workspace sweep removes those
 * and only those, so a workspaces directory shared by mistake with another database is never touched.
 */
export const oneActiveRun: Migration = {
  version: 7,
  name: 'one-active-run-and-project-tombstones',
  sql: /* sql */ `
WITH superseded AS (
  SELECT id FROM (
    SELECT id, row_number() OVER (PARTITION BY project_id ORDER BY created_at DESC, id DESC) AS newest
    FROM runs WHERE status IN ('queued', 'running')
  ) ranked WHERE newest > 1
), cancelled AS (
  UPDATE runs SET status = 'cancelled', reason = 'cancelled', finished_at = now(),
    cancel_requested_at = coalesce(cancel_requested_at, now())
  WHERE id IN (SELECT id FROM superseded) RETURNING id
)
UPDATE jobs SET status = 'failed', last_error = 'run cancelled', locked_by = NULL, lease_until = NULL, updated_at = now()
WHERE singleton_key IN (SELECT 'run:' || id FROM cancelled) AND status IN ('queued', 'active');
CREATE UNIQUE INDEX runs_one_active_per_project ON runs (project_id) WHERE status IN ('queued', 'running');
CREATE TABLE project_tombstones (
  project_id uuid PRIMARY KEY,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
`,
};
