import { AppError, notFound } from '../../core/errors.js';
import type { Queryable } from '../port.js';

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

/**
 * A run's steps. A step row is written when the step starts and finished (output + commit) in
 * the transaction that ends it, before the next one starts: the finished steps are the resume
 * point after a crash, and they are never redone.
 */
export class StepsRepo {
  constructor(private readonly db: Queryable) {}

  /**
   * Starts step `seq` of the run. If that seq already has an unfinished row (a crashed or failed
   * attempt), the row is reset and reused, so a resumed run redoes exactly the unfinished step.
   * @throws E_CONFLICT if the step already succeeded (finished steps are never redone).
   */
  async start(input: { runId: string; seq: number; kind: StepKind; taskId?: string | null; round?: number }): Promise<Step> {
    const res = await this.db.query<StepRow>(
      `INSERT INTO steps (run_id, seq, kind, task_id, round) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id, seq) DO UPDATE SET
         kind = EXCLUDED.kind, task_id = EXCLUDED.task_id, round = EXCLUDED.round, status = 'running',
         output = NULL, commit_sha = NULL, error = NULL, started_at = now(), finished_at = NULL
       WHERE steps.status <> 'succeeded'
       RETURNING *`,
      [input.runId, input.seq, input.kind, input.taskId ?? null, input.round ?? 0],
    );
    if (res.rows[0]) return toStep(res.rows[0]);
    throw new AppError('E_CONFLICT', `step ${input.seq} of run ${input.runId} already succeeded`);
  }

  /** Marks a running step succeeded with its output and the commit it made. */
  async finish(stepId: string, result: { output?: unknown; commitSha?: string | null }): Promise<Step> {
    const res = await this.db.query<StepRow>(
      `UPDATE steps SET status = 'succeeded', output = $2::jsonb, commit_sha = $3, finished_at = now()
       WHERE id = $1 AND status = 'running' RETURNING *`,
      [stepId, JSON.stringify(result.output ?? null), result.commitSha ?? null],
    );
    return this.changed(res.rows[0], stepId);
  }

  /** Marks a running step failed (or cancelled) with the reason. */
  async fail(stepId: string, error: string, status: 'failed' | 'cancelled' = 'failed'): Promise<Step> {
    const res = await this.db.query<StepRow>(
      `UPDATE steps SET status = $3, error = $2, finished_at = now() WHERE id = $1 AND status = 'running' RETURNING *`,
      [stepId, error.slice(0, MAX_ERROR_CHARS), status],
    );
    return this.changed(res.rows[0], stepId);
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

  private async changed(row: StepRow | undefined, stepId: string): Promise<Step> {
    if (row) return toStep(row);
    const res = await this.db.query<{ status: StepStatus }>('SELECT status FROM steps WHERE id = $1', [stepId]);
    if (!res.rows[0]) throw notFound('step');
    throw new AppError('E_CONFLICT', `step is already ${res.rows[0].status}`);
  }
}
