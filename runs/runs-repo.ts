import { AppError, notFound } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { JobQueue, type Job } from '../db/queue/job-queue.js';
import type { LeaseFence } from '../db/queue/lease-fence.js';
import { appendEventCtes, EVENTS_CHANNEL, type ProjectEvent } from '../events/event-log.js';
import { appendEvent } from '../events/run-events.js';
import type { EventInput } from '../protocol/event-catalogue.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from '../db/repos/pagination.js';
import { enforceLimit, lockUserPlan } from '../db/repos/plan-limits.js';
import { inTransaction } from '../db/repos/transaction.js';

export type RunKind = 'generate' | 'change';
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type KeySource = 'byok' | 'platform';

export interface Run {
  id: string;
  projectId: string;
  userId: string;
  kind: RunKind;
  prompt: string;
  provider: string;
  model: string;
  keyId: string | null;
  keySource: KeySource;
  status: RunStatus;
  reason: string | null;
  cancelRequestedAt: Date | null;
  plan: unknown;
  architecture: unknown;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The queue runs are executed from, and the payload of their jobs. */
export const RUNS_QUEUE = 'runs';
export interface RunJobPayload {
  runId: string;
  projectId: string;
  userId: string;
}
/** The singleton key of a run's job: at most one unfinished job per run. */
export const runJobKey = (runId: string): string => `run:${runId}`;

/** NOTIFY channel (payload: run id) sent when a running run's cancel is requested. */
export const RUN_CANCEL_CHANNEL = 'run_cancel';

/** `keyId`: a BYOK key of this user (checked), or null for a platform key. */
export type CreateRunInput = Pick<Run, 'projectId' | 'userId' | 'kind' | 'prompt' | 'provider' | 'model' | 'keyId' | 'keySource'> & {
  /** Job retries when the worker crashes or the attempt fails (default 5). */
  maxAttempts?: number;
};

/**
 * Legal moves. `running → running` is the resume of a run whose worker died: the new worker
 * marks it running again (started_at is kept).
 */
const ALLOWED_FROM: Record<RunStatus, RunStatus[]> = {
  queued: [],
  running: ['queued', 'running'],
  succeeded: ['running'],
  failed: ['queued', 'running'],
  cancelled: ['queued', 'running'],
};

/** A transition's SET list; $2 is the new status, $3 the reason (see transition). */
const MOVE = `status = $2,
  reason = CASE WHEN $2 = 'running' THEN reason ELSE $3 END,
  started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
  finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE finished_at END`;

export const isTerminal = (s: RunStatus): boolean => s === 'succeeded' || s === 'failed' || s === 'cancelled';

interface RunRow {
  id: string;
  project_id: string;
  user_id: string;
  kind: RunKind;
  prompt: string;
  provider: string;
  model: string;
  key_id: string | null;
  key_source: KeySource;
  status: RunStatus;
  reason: string | null;
  cancel_requested_at: Date | null;
  plan: unknown;
  architecture: unknown;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_micro_usd: number | string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  created_at_key: string;
}

const COLUMNS = `id, project_id, user_id, kind, prompt, provider, model, key_id, key_source, status, reason,
  cancel_requested_at, plan, architecture, input_tokens, output_tokens, cost_micro_usd, created_at, started_at,
  finished_at, created_at::text AS created_at_key`;

const date = (d: Date | null): Date | null => (d === null ? null : new Date(d));

const toRun = (r: RunRow): Run => ({
  id: r.id,
  projectId: r.project_id,
  userId: r.user_id,
  kind: r.kind,
  prompt: r.prompt,
  provider: r.provider,
  model: r.model,
  keyId: r.key_id,
  keySource: r.key_source,
  status: r.status,
  reason: r.reason,
  cancelRequestedAt: date(r.cancel_requested_at),
  plan: r.plan,
  architecture: r.architecture,
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  costMicroUsd: Number(r.cost_micro_usd),
  createdAt: new Date(r.created_at),
  startedAt: date(r.started_at),
  finishedAt: date(r.finished_at),
});

export class RunsRepo {
  /** @param db the Database, or a transaction (multi-statement methods then run inside it). */
  constructor(private readonly db: Queryable) {}

  /**
   * Creates a queued run, enqueues its job and appends `run.queued`, all in one transaction, if
   * the plan allows one more queued-or-running run. The count runs under the user's row lock
   * (lockUserPlan), so concurrent generates cannot exceed max_concurrent_runs.
   * @throws E_NOT_FOUND (project or key not the user's), E_LIMIT naming the limit and the plan.
   */
  async create(input: CreateRunInput): Promise<{ run: Run; job: Job<RunJobPayload>; event: ProjectEvent }> {
    return inTransaction(this.db, async (tx) => {
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
      const active = await tx.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM runs WHERE user_id = $1 AND status IN ('queued', 'running')`,
        [input.userId],
      );
      enforceLimit(plan, 'max_concurrent_runs', Number(active.rows[0]!.n));
      const res = await tx.query<RunRow>(
        `INSERT INTO runs (project_id, user_id, kind, prompt, provider, model, key_id, key_source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [input.projectId, input.userId, input.kind, input.prompt, input.provider, input.model, input.keyId, input.keySource],
      );
      const run = toRun(res.rows[0]!);
      const job = await new JobQueue(tx).enqueue<RunJobPayload>({
        queue: RUNS_QUEUE,
        payload: { runId: run.id, projectId: run.projectId, userId: run.userId },
        singletonKey: runJobKey(run.id),
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

  async get(runId: string, userId: string): Promise<Run | undefined> {
    const res = await this.db.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE id = $1 AND user_id = $2`, [runId, userId]);
    return res.rows[0] && toRun(res.rows[0]);
  }

  /** For workers, which act on a run whoever owns it. */
  async getById(runId: string): Promise<Run | undefined> {
    const res = await this.db.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE id = $1`, [runId]);
    return res.rows[0] && toRun(res.rows[0]);
  }

  /** A project's runs, newest first (empty for another user's project). */
  async listByProject(projectId: string, userId: string, page: PageRequest = {}): Promise<Page<Run>> {
    const limit = pageLimit(page);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const res = await this.db.query<RunRow>(
      `SELECT ${COLUMNS} FROM runs
       WHERE project_id = $1 AND user_id = $2
         AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
       ORDER BY created_at DESC, id DESC
       LIMIT $5`,
      [projectId, userId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return toPage(res.rows, limit, toRun);
  }

  /** Queued and running runs of the user (what max_concurrent_runs counts). */
  async countActive(userId: string): Promise<number> {
    const res = await this.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM runs WHERE user_id = $1 AND status IN ('queued', 'running')`, [userId]);
    return Number(res.rows[0]!.n);
  }

  /**
   * Moves the run to `to` if that is legal from its current status (see ALLOWED_FROM), in one
   * conditional UPDATE, so two racing transitions cannot both win. Sets started_at on the first
   * `running`, finished_at on a terminal status.
   * @throws E_NOT_FOUND, or E_CONFLICT for an illegal transition (e.g. succeeded → running).
   */
  async transition(runId: string, to: RunStatus, reason: string | null = null): Promise<Run> {
    const res = await this.db.query<RunRow>(`UPDATE runs SET ${MOVE} WHERE id = $1 AND status = ANY($4::text[]) RETURNING ${COLUMNS}`, [
      runId,
      to,
      reason,
      ALLOWED_FROM[to],
    ]);
    if (res.rows[0]) return toRun(res.rows[0]);
    throw await this.refused(runId, to);
  }

  /**
   * `transition` by the worker holding the run's job: fenced by its lease and appending `event`
   * (e.g. run.started, run.finished) with the project's next gapless seq, in one statement.
   * @throws LeaseLostError (nothing written), or what `transition` throws.
   */
  async transitionAsHolder(fence: LeaseFence, runId: string, to: RunStatus, reason: string | null, event: EventInput<'run.started' | 'run.resumed' | 'run.finished'>): Promise<{ run: Run; event: ProjectEvent }> {
    const row = await fence.query<{ [K in keyof RunRow]: RunRow[K] | null } & { event_seq: string | number | null; event_data: unknown; event_at: Date | null }>(
      this.db,
      [runId, to, reason, ALLOWED_FROM[to], event.type, JSON.stringify(event.data ?? {}), EVENTS_CHANNEL],
      (f) => `WITH ${f.cte}, moved AS (
         UPDATE runs SET ${MOVE} WHERE id = $1 AND status = ANY($4::text[]) AND ${f.held} RETURNING ${COLUMNS}
       ), ${appendEventCtes({ projectId: '(SELECT project_id FROM moved)', runId: '$1', type: '$5::text', data: '$6::jsonb', channel: '$7::text' })}
       SELECT ${f.held} AS lease_held, moved.*, e.seq AS event_seq, e.data AS event_data, e.at AS event_at
         FROM (SELECT 1) one LEFT JOIN moved ON true LEFT JOIN event_notified e ON true`,
    );
    if (row.id === null) throw await this.refused(runId, to);
    const run = toRun(row as RunRow);
    return { run, event: { projectId: run.projectId, seq: Number(row.event_seq), runId, type: event.type, data: row.event_data, at: new Date(row.event_at!) } };
  }

  /** Why a transition changed nothing: the run is gone, or its status does not allow `to`. */
  private async refused(runId: string, to: RunStatus): Promise<AppError> {
    const current = await this.getById(runId);
    if (!current) return notFound('run');
    return new AppError('E_CONFLICT', `run is ${current.status}; it cannot become ${to}`, { details: { status: current.status, to } });
  }

  /**
   * Asks for the run to stop. A queued run (no worker has it yet) is cancelled here at once: its
   * job is cancelled and `run.finished` appended, in one transaction. A running run gets
   * cancel_requested_at and a NOTIFY on RUN_CANCEL_CHANNEL (payload: the run id) that its worker
   * listens to; the worker then ends it `cancelled`. Finished runs are returned unchanged.
   * @returns undefined if the run is missing or not the user's.
   */
  async requestCancel(runId: string, userId: string): Promise<Run | undefined> {
    return inTransaction(this.db, async (tx) => {
      const res = await tx.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE id = $1 AND user_id = $2 FOR UPDATE`, [runId, userId]);
      const row = res.rows[0];
      if (!row) return undefined;
      if (row.status === 'queued') {
        const runs = new RunsRepo(tx);
        const run = await runs.transition(runId, 'cancelled', 'cancelled');
        await new JobQueue(tx).cancelBySingletonKeys([runJobKey(runId)], 'run cancelled');
        await appendEvent(tx, { projectId: run.projectId, runId, type: 'run.finished', data: { status: 'cancelled', reason: 'cancelled' } });
        return run;
      }
      if (row.status !== 'running') return toRun(row);
      const upd = await tx.query<RunRow>(
        `UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
        [runId],
      );
      await tx.query('SELECT pg_notify($1, $2)', [RUN_CANCEL_CHANNEL, runId]);
      return toRun(upd.rows[0]!);
    });
  }

  async isCancelRequested(runId: string): Promise<boolean> {
    const res = await this.db.query<{ c: Date | null }>('SELECT cancel_requested_at AS c FROM runs WHERE id = $1', [runId]);
    return res.rows[0]?.c != null;
  }

  async setPlan(runId: string, plan: unknown): Promise<void> {
    await this.db.query('UPDATE runs SET plan = $2::jsonb WHERE id = $1', [runId, JSON.stringify(plan)]);
  }

  async setArchitecture(runId: string, architecture: unknown): Promise<void> {
    await this.db.query('UPDATE runs SET architecture = $2::jsonb WHERE id = $1', [runId, JSON.stringify(architecture)]);
  }
}
