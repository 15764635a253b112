import { AppError, notFound } from '../../core/errors.js';
import type { Queryable } from '../port.js';
import type { LeaseFence } from '../queue/lease-fence.js';
import { appendEventCtes, EVENTS_CHANNEL } from '../../events/event-log.js';
import type { EventData } from '../../protocol/event-catalogue.js';

export type StepKind = 'planner' | 'architect' | 'coder' | 'verify' | 'fixer';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Step {
  id: string;
  runId: string;
  /** The step's position in its run, chosen by the pipeline; the resume point is by seq. */
  seq: number;
  kind: StepKind;
  taskId: string | null;
  round: number;
  status: StepStatus;
  output: unknown;
  commitSha: string | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

interface StepRow {
  id: string;
  run_id: string;
  seq: number;
  kind: StepKind;
  task_id: string | null;
  round: number;
  status: StepStatus;
  output: unknown;
  commit_sha: string | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const toStep = (r: StepRow): Step => ({
  id: r.id,
  runId: r.run_id,
  seq: r.seq,
  kind: r.kind,
  taskId: r.task_id,
  round: r.round,
  status: r.status,
  output: r.output,
  commitSha: r.commit_sha,
  error: r.error,
  startedAt: new Date(r.started_at),
  finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
});

const MAX_ERROR_CHARS = 4000;

/** What a step event says about its step; the caller adds its own fields (e.g. the attempt). */
const STEP_EVENT_FIELDS = "'seq', step.seq, 'kind', step.kind, 'taskId', step.task_id, 'round', step.round";

/** A fenced statement's one row: the step it wrote (all NULL when it wrote none), and why not. */
type BoundaryRow = { [K in keyof StepRow]: StepRow[K] | null } & {
  /** The step's status before the statement (finish, fail), for the E_CONFLICT message. */
  status_before?: StepStatus | null;
};

/**
 * A run's steps. A step row is written when the step starts and finished (output + commit) by the
 * statement that ends it, before the next one starts: the finished steps are the resume point after
 * a crash, and they are never redone.
 *
 * The writes are the job holder's: each is one statement fenced by the run job's lease (see
 * LeaseFence), so a worker that lost the job writes nothing; a start and a finish also append their
 * event (`step.started`, `step.finished`) with the project's next gapless seq in that statement.
 */
export class StepsRepo {
  constructor(private readonly db: Queryable) {}

  /**
   * Starts step `seq` of the run and appends `step.started` (the step's seq, kind, taskId, round
   * and stepId, plus `event`), unless the run's cancel was requested: then nothing is written. If
   * that seq already has an unfinished row (a crashed or failed attempt), the row is reset and
   * reused, so a resumed run redoes exactly the unfinished step.
   * @returns the step, or 'cancel_requested' (read in the same statement, so a cancel whose NOTIFY
   *   was missed is seen at the next step boundary at no extra cost).
   * @throws LeaseLostError (nothing written); E_CONFLICT if the step already succeeded (finished
   *   steps are never redone); E_NOT_FOUND if the run is gone.
   */
  async start(
    fence: LeaseFence,
    input: { runId: string; seq: number; kind: StepKind; taskId?: string | null; round?: number },
    event: Partial<Pick<EventData<'step.started'>, 'attempt' | 'taskTitle'>> = {},
  ): Promise<Step | 'cancel_requested'> {
    const row = await fence.query<BoundaryRow & { run_found: boolean; cancel_requested: boolean | null }>(
      this.db,
      [input.runId, input.seq, input.kind, input.taskId ?? null, input.round ?? 0, JSON.stringify(event), EVENTS_CHANNEL],
      (f) => `WITH ${f.cte}, run AS (
         SELECT project_id, cancel_requested_at FROM runs WHERE id = $1::uuid
       ), step AS (
         INSERT INTO steps (run_id, seq, kind, task_id, round)
         SELECT $1::uuid, $2::int, $3::text, $4::text, $5::int FROM run WHERE run.cancel_requested_at IS NULL AND ${f.held}
         ON CONFLICT (run_id, seq) DO UPDATE SET
           kind = EXCLUDED.kind, task_id = EXCLUDED.task_id, round = EXCLUDED.round, status = 'running',
           output = NULL, commit_sha = NULL, error = NULL, started_at = now(), finished_at = NULL
         WHERE steps.status <> 'succeeded'
         RETURNING *
       ), ${appendEventCtes({
         projectId: '(SELECT run.project_id FROM run, step)',
         runId: '$1::uuid',
         type: "'step.started'",
         data: `(SELECT jsonb_build_object(${STEP_EVENT_FIELDS}, 'stepId', step.id) FROM step) || $6::jsonb`,
         channel: '$7::text',
       })}
       SELECT ${f.held} AS lease_held, EXISTS (SELECT 1 FROM run) AS run_found,
              (SELECT cancel_requested_at IS NOT NULL FROM run) AS cancel_requested,
              (SELECT count(*) FROM event_notified)::int AS events, step.*
         FROM (SELECT 1) one LEFT JOIN step ON true`,
    );
    if (!row.run_found) throw notFound('run');
    if (row.cancel_requested) return 'cancel_requested';
    if (row.id === null) throw new AppError('E_CONFLICT', `step ${input.seq} of run ${input.runId} already succeeded`);
    return toStep(row as StepRow);
  }

  /**
   * Marks a running step succeeded with its output and the commit it made, and appends
   * `step.finished` (the step's seq, kind, taskId, round and commitSha, plus `event`).
   * @throws LeaseLostError (nothing written); E_CONFLICT if the step is not running; E_NOT_FOUND.
   */
  async finish(fence: LeaseFence, stepId: string, result: { output?: unknown; commitSha?: string | null }, event: Partial<Pick<EventData<'step.finished'>, 'summary'>> = {}): Promise<Step> {
    const row = await fence.query<BoundaryRow>(
      this.db,
      [stepId, JSON.stringify(result.output ?? null), result.commitSha ?? null, JSON.stringify(event), EVENTS_CHANNEL],
      (f) => `WITH ${f.cte}, step AS (
         UPDATE steps SET status = 'succeeded', output = $2::jsonb, commit_sha = $3, finished_at = now()
          WHERE id = $1 AND status = 'running' AND ${f.held}
         RETURNING *
       ), ${appendEventCtes({
         projectId: '(SELECT runs.project_id FROM runs, step WHERE runs.id = step.run_id)',
         runId: '(SELECT run_id FROM step)',
         type: "'step.finished'",
         data: `(SELECT jsonb_build_object(${STEP_EVENT_FIELDS}, 'commitSha', step.commit_sha) FROM step) || $4::jsonb`,
         channel: '$5::text',
       })}
       SELECT ${f.held} AS lease_held, (SELECT status FROM steps WHERE id = $1) AS status_before,
              (SELECT count(*) FROM event_notified)::int AS events, step.*
         FROM (SELECT 1) one LEFT JOIN step ON true`,
    );
    return changed(row);
  }

  /**
   * Marks a running step failed (or cancelled) with the reason.
   * @throws LeaseLostError (nothing written); E_CONFLICT if the step is not running; E_NOT_FOUND.
   */
  async fail(fence: LeaseFence, stepId: string, error: string, status: 'failed' | 'cancelled' = 'failed'): Promise<Step> {
    const row = await fence.query<BoundaryRow>(
      this.db,
      [stepId, error.slice(0, MAX_ERROR_CHARS), status],
      (f) => `WITH ${f.cte}, step AS (
         UPDATE steps SET status = $3, error = $2, finished_at = now() WHERE id = $1 AND status = 'running' AND ${f.held} RETURNING *
       )
       SELECT ${f.held} AS lease_held, (SELECT status FROM steps WHERE id = $1) AS status_before, step.*
         FROM (SELECT 1) one LEFT JOIN step ON true`,
    );
    return changed(row);
  }

  /** All steps of the run in order (for the API's run view). */
  async list(runId: string): Promise<Step[]> {
    const res = await this.db.query<StepRow>('SELECT * FROM steps WHERE run_id = $1 ORDER BY seq', [runId]);
    return res.rows.map(toStep);
  }

  /** The succeeded steps in order: what a resumed run skips, with the outputs it needs. */
  async finishedSteps(runId: string): Promise<Step[]> {
    const res = await this.db.query<StepRow>(`SELECT * FROM steps WHERE run_id = $1 AND status = 'succeeded' ORDER BY seq`, [runId]);
    return res.rows.map(toStep);
  }

  /** The succeeded step with the highest seq (its commit is the workspace to resume from). */
  async lastFinishedStep(runId: string): Promise<Step | undefined> {
    const res = await this.db.query<StepRow>(
      `SELECT * FROM steps WHERE run_id = $1 AND status = 'succeeded' ORDER BY seq DESC LIMIT 1`,
      [runId],
    );
    return res.rows[0] && toStep(res.rows[0]);
  }

}

/** The step a finish or fail wrote, or why it wrote none (the status the statement found). */
function changed(row: BoundaryRow): Step {
  if (row.id !== null) return toStep(row as StepRow);
  if (!row.status_before) throw notFound('step');
  throw new AppError('E_CONFLICT', `step is already ${row.status_before}`);
}
