import type { KeySource } from '../keys/key-source.js';
import { AppError, notFound } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { JobQueue } from '../db/queue/job-queue.js';
import type { LeaseFence } from '../db/queue/lease-fence.js';
import { appendEventCtes, EVENTS_CHANNEL, type ProjectEvent } from '../events/event-log.js';
import { appendEvent } from '../events/run-events.js';
import type { EventInput } from '../protocol/event-catalogue.js';
import { newestFirstPage, type Page, type PageRequest } from '../db/repos/pagination.js';
import { inTransaction } from '../db/repos/transaction.js';
import { notifyCancel } from './cancel-channel.js';
import { NO_BUDGET, parseRoleModels, type RoleModels, type RunBudget } from './role-models.js';
import { ACTIVE_STATUSES, ALLOWED_FROM, type RunKind, type RunStatus } from './run-status.js';


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
  /** What happened and what to do next, when it did not succeed (from run.finished). */
  message: string | null;
  cancelRequestedAt: Date | null;
  plan: unknown;
  architecture: unknown;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  /** What the user allowed the run to spend (checked after every model call, from the ledger). */
  budget: RunBudget;
  /** The roles with a model of their own (see modelForStep). */
  models: RoleModels;
  /** Model calls billed at an estimate because the provider reported no usage. */
  estimatedCalls: number;
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

/** What a new run row holds; `keyId` is a BYOK key of this user, or null for a platform key. */
export type NewRun = Pick<Run, 'projectId' | 'userId' | 'kind' | 'prompt' | 'provider' | 'model' | 'keyId' | 'keySource'> & Partial<Pick<Run, 'budget' | 'models'>>;

/** A transition's SET list; $2 is the new status, $3 the reason (see transition). */
const MOVE = `status = $2,
  reason = CASE WHEN $2 = 'running' THEN reason ELSE $3 END,
  started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
  finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE finished_at END`;

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
  message: string | null;
  cancel_requested_at: Date | null;
  plan: unknown;
  architecture: unknown;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_micro_usd: number | string;
  budget_max_tokens: number | string | null;
  budget_max_cost_micro_usd: number | string | null;
  models: unknown;
  estimated_calls: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  created_at_key: string;
}

const COLUMNS = `id, project_id, user_id, kind, prompt, provider, model, key_id, key_source, status, reason, message,
  cancel_requested_at, plan, architecture, input_tokens, output_tokens, cost_micro_usd, estimated_calls, budget_max_tokens,
  budget_max_cost_micro_usd, models, created_at, started_at, finished_at, created_at::text AS created_at_key`;

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
  message: r.message,
  cancelRequestedAt: date(r.cancel_requested_at),
  plan: r.plan,
  architecture: r.architecture,
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  costMicroUsd: Number(r.cost_micro_usd),
  estimatedCalls: Number(r.estimated_calls),
  budget: { maxTokens: r.budget_max_tokens === null ? null : Number(r.budget_max_tokens), maxCostMicroUsd: r.budget_max_cost_micro_usd === null ? null : Number(r.budget_max_cost_micro_usd) },
  models: parseRoleModels(r.models),
  createdAt: new Date(r.created_at),
  startedAt: date(r.started_at),
  finishedAt: date(r.finished_at),
});

export class RunsRepo {
  /** @param db the Database, or a transaction (multi-statement methods then run inside it). */
  constructor(private readonly db: Queryable) {}

  /**
   * Inserts a queued run (see enqueueRun for the checks and the job that go with it).
   * @throws a unique violation (runs_one_active_per_project) when the project already has an active run.
   */
  async insert(input: NewRun): Promise<Run> {
    const res = await this.db.query<RunRow>(
      `INSERT INTO runs (project_id, user_id, kind, prompt, provider, model, key_id, key_source, budget_max_tokens, budget_max_cost_micro_usd, models)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) RETURNING ${COLUMNS}`,
      [
        input.projectId, input.userId, input.kind, input.prompt, input.provider, input.model, input.keyId, input.keySource,
        (input.budget ?? NO_BUDGET).maxTokens, (input.budget ?? NO_BUDGET).maxCostMicroUsd, JSON.stringify(input.models ?? {}),
      ],
    );
    return toRun(res.rows[0]!);
  }

  /** The project's queued or running run (there is at most one), if any. */
  async activeInProject(projectId: string): Promise<Run | undefined> {
    const res = await this.db.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE project_id = $1 AND status = ANY($2::text[])`, [projectId, ACTIVE_STATUSES]);
    return res.rows[0] && toRun(res.rows[0]);
  }

  /** Whether the project has ever had a run (its next one is then a change request). */
  async projectHasRuns(projectId: string): Promise<boolean> {
    const res = await this.db.query('SELECT 1 FROM runs WHERE project_id = $1 LIMIT 1', [projectId]);
    return res.rows.length > 0;
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
    return newestFirstPage(this.db, { select: `SELECT ${COLUMNS} FROM runs`, where: 'project_id = $1 AND user_id = $2', params: [projectId, userId] }, page, toRun);
  }

  /** Queued and running runs of the user (what max_concurrent_runs counts). */
  async countActive(userId: string): Promise<number> {
    const res = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM runs WHERE user_id = $1 AND status = ANY($2::text[])', [userId, ACTIVE_STATUSES]);
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
         UPDATE runs SET ${MOVE}, message = CASE WHEN $5::text = 'run.finished' THEN $6::jsonb->>'message' ELSE message END
           WHERE id = $1 AND status = ANY($4::text[]) AND ${f.held} RETURNING ${COLUMNS}
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
   * cancel_requested_at and a notice on the cancel channel (cancel-channel.ts) that its worker
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
      await notifyCancel(tx, [runId]);
      return toRun(upd.rows[0]!);
    });
  }

  async setPlan(runId: string, plan: unknown): Promise<void> {
    await this.db.query('UPDATE runs SET plan = $2::jsonb WHERE id = $1', [runId, JSON.stringify(plan)]);
  }

  async setArchitecture(runId: string, architecture: unknown): Promise<void> {
    await this.db.query('UPDATE runs SET architecture = $2::jsonb WHERE id = $1', [runId, JSON.stringify(architecture)]);
  }
}
