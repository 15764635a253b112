import type { Queryable } from '../port.js';

/**
 * A durable job queue on the `jobs` table.
 *
 * Claiming uses `FOR UPDATE SKIP LOCKED`, so any number of workers on any number of nodes can
 * poll the same queue without blocking each other or taking the same job. A claim is a lease:
 * the holder renews it by heartbeat, and when it stops (the process died, the node lost its
 * network) the lease runs out and the job is claimable again.
 *
 * Time: leases and `runAfter` are measured on the database's clock (`now()`), never on a node's:
 * every node compares against the same clock, so a node whose clock drifts cannot steal a live
 * lease or keep a dead one. Tests control time with short leases instead of a fake clock.
 *
 * Fairness: a job may name a group (`groupKey`, e.g. the user a run belongs to). The claim takes
 * jobs in turns: a job's turn is its group's live (active, lease not run out) jobs plus the
 * claimable jobs of its group ahead of it; lower turns first, then oldest first. So a group with
 * a backlog gets a slot only after every other waiting group has as many running, and one user's
 * queued runs never hold another's back. Jobs without a group each have turn 0: plain FIFO.
 *
 * Fencing: every transition after the claim carries `WHERE locked_by = $worker AND status =
 * 'active'`, so a worker whose lease expired and was re-claimed elsewhere can neither renew nor
 * complete nor fail the job. A handler fences its own writes (e.g. "persist this step") with a
 * LeaseFence (lease-fence.ts): the same renewal as `heartbeat`, inside the statement that writes.
 */

export type JobStatus = 'queued' | 'active' | 'done' | 'failed';

export interface Job<P = unknown> {
  id: string;
  queue: string;
  payload: P;
  status: JobStatus;
  runAfter: Date;
  /** Claims so far, including the current one. */
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  singletonKey: string | null;
  groupKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EnqueueInput<P> {
  queue: string;
  payload: P;
  /** At most one unfinished (queued or active) job per key, e.g. `run:<id>`. */
  singletonKey?: string;
  /** Whose job it is (e.g. the run's user): claims take groups in turns (see JobQueue). */
  groupKey?: string;
  /** Not claimable before this moment (default: now). */
  runAfter?: Date;
  maxAttempts?: number;
}

export interface ClaimResult<P> {
  /** Jobs now leased to the caller. */
  jobs: Job<P>[];
  /**
   * Jobs whose lease ran out on their last allowed attempt: moved to `failed` by this claim
   * instead of being run again. Nobody else sees them, so the caller reports them (e.g. marks
   * the run failed).
   */
  exhausted: Job<P>[];
}

export interface FailOptions {
  /** Retry after this many ms (database clock). Default: 1 s, 2 s, 4 s … by attempt, capped at 5 min. */
  retryInMs?: number;
  /** Fail for good regardless of attempts left. */
  permanent?: boolean;
}

interface JobRow {
  id: string;
  queue: string;
  payload: unknown;
  status: JobStatus;
  run_after: Date;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  lease_until: Date | null;
  last_error: string | null;
  singleton_key: string | null;
  group_key: string | null;
  created_at: Date;
  updated_at: Date;
}

const JOB_COLUMNS =
  'id, queue, payload, status, run_after, attempts, max_attempts, locked_by, lease_until, last_error, singleton_key, group_key, created_at, updated_at';

const toJob = <P>(r: JobRow): Job<P> => ({
  id: r.id,
  queue: r.queue,
  payload: r.payload as P,
  status: r.status,
  runAfter: new Date(r.run_after),
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  lockedBy: r.locked_by,
  leaseUntil: r.lease_until === null ? null : new Date(r.lease_until),
  lastError: r.last_error,
  singletonKey: r.singleton_key,
  groupKey: r.group_key,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const QUEUE_NAME = /^[a-z_][a-z0-9_]{0,56}$/;

/** The NOTIFY channel a queue's enqueues are announced on (a wake-up for idle workers). */
export function queueChannel(queue: string): string {
  if (!QUEUE_NAME.test(queue)) throw new Error(`invalid queue name: ${queue} (lowercase letters, digits, _)`);
  return `jobs_${queue}`;
}

/**
 * The lease renewal of `heartbeat` over three SQL expressions (job id, worker id, lease ms): only
 * the holder's active job matches. Shared with LeaseFence, which runs it inside a handler's write.
 */
export const renewLeaseSql = (jobId: string, workerId: string, leaseMs: string): string =>
  `UPDATE jobs SET lease_until = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
       WHERE id = ${jobId} AND locked_by = ${workerId} AND status = 'active'`;

/** Error messages are stored for operators; a huge stack must not bloat the row. */
const MAX_ERROR_CHARS = 4000;

export class JobQueue {
  /** @param db a Database, or a transaction to make the operation part of it. */
  constructor(private readonly db: Queryable) {}

  /**
   * Adds a job. Inside a transaction it is atomic with the caller's writes, and the wake-up
   * NOTIFY is delivered only on commit (so a worker never wakes for a job it cannot see yet).
   * Returns undefined when `singletonKey` already has an unfinished job (nothing is added).
   */
  async enqueue<P>(input: EnqueueInput<P>): Promise<Job<P> | undefined> {
    const channel = queueChannel(input.queue);
    const res = await this.db.query<JobRow>(
      `WITH ins AS (
         INSERT INTO jobs (queue, payload, singleton_key, run_after, max_attempts, group_key)
         VALUES ($1, $2::jsonb, $3, coalesce($4::timestamptz, now()), $5, $7)
         ON CONFLICT (singleton_key) WHERE status IN ('queued', 'active') DO NOTHING
         RETURNING ${JOB_COLUMNS}
       )
       SELECT ins.*, pg_notify($6, ins.id::text) AS notified FROM ins`,
      [input.queue, JSON.stringify(input.payload ?? {}), input.singletonKey ?? null, input.runAfter ?? null, input.maxAttempts ?? 5, channel, input.groupKey ?? null],
    );
    return res.rows[0] && toJob<P>(res.rows[0]);
  }

  /**
   * Leases up to `limit` claimable jobs: queued ones that are due, and active ones whose lease
   * ran out (their worker is presumed dead), in turns by group (see JobQueue). Each claim counts
   * an attempt; an expired job that has no attempt left goes to `failed` instead (see
   * ClaimResult.exhausted).
   * @param exclude job ids the caller is already running (so a worker never re-claims its own
   *   expired job while the old handler may still be winding down).
   */
  async claim<P = unknown>(queue: string, workerId: string, leaseMs: number, limit: number, exclude: readonly string[] = []): Promise<ClaimResult<P>> {
    if (limit <= 0) return { jobs: [], exhausted: [] };
    // One statement: the candidate rows are locked (SKIP LOCKED: rows another claimer holds are
    // passed over, not waited for) and updated before any other claimer can look at them again.
    // The turns are counted without locks (FOR UPDATE cannot sit beside a window function); the
    // locking SELECT repeats the claimable test, which Postgres re-checks on the row's latest
    // version, so a row another claimer took in the meantime is never taken twice.
    const res = await this.db.query<JobRow>(
      `WITH live AS (
         SELECT group_key, count(*) AS n FROM jobs
         WHERE queue = $1 AND status = 'active' AND group_key IS NOT NULL AND lease_until >= now()
         GROUP BY group_key
       ), turns AS (
         SELECT j.id, j.run_after, j.created_at, j.enqueue_seq,
                CASE WHEN j.group_key IS NULL THEN 0
                     ELSE coalesce(live.n, 0) + row_number() OVER (PARTITION BY j.group_key ORDER BY j.run_after, j.created_at, j.enqueue_seq) - 1
                END AS turn
         FROM jobs j LEFT JOIN live ON live.group_key = j.group_key
         WHERE j.queue = $1
           AND ((j.status = 'queued' AND j.run_after <= now()) OR (j.status = 'active' AND j.lease_until < now()))
           AND NOT (j.id = ANY($5::uuid[]))
       ), cand AS (
         SELECT j.id, j.attempts >= j.max_attempts AS exhausted
         FROM jobs j JOIN turns t ON t.id = j.id
         WHERE j.queue = $1
           AND ((j.status = 'queued' AND j.run_after <= now()) OR (j.status = 'active' AND j.lease_until < now()))
         ORDER BY t.turn, t.run_after, t.created_at, t.enqueue_seq
         LIMIT $4
         FOR UPDATE OF j SKIP LOCKED
       )
       UPDATE jobs j SET
         status      = CASE WHEN cand.exhausted THEN 'failed' ELSE 'active' END,
         attempts    = CASE WHEN cand.exhausted THEN j.attempts ELSE j.attempts + 1 END,
         locked_by   = CASE WHEN cand.exhausted THEN NULL ELSE $2 END,
         lease_until = CASE WHEN cand.exhausted THEN NULL ELSE now() + $3 * interval '1 millisecond' END,
         last_error  = CASE WHEN cand.exhausted
                         THEN 'lease expired on the last attempt (' || j.attempts || '/' || j.max_attempts || ')'
                         ELSE j.last_error END,
         updated_at  = now()
       FROM cand
       WHERE j.id = cand.id
       RETURNING ${JOB_COLUMNS.split(', ').map((c) => `j.${c}`).join(', ')}`,
      [queue, workerId, leaseMs, limit, exclude],
    );
    const all = res.rows.map((r) => toJob<P>(r));
    return { jobs: all.filter((j) => j.status === 'active'), exhausted: all.filter((j) => j.status === 'failed') };
  }

  /** Extends the lease. False means the lease is lost (re-claimed, cancelled, finished): stop. */
  async heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    const res = await this.db.query(renewLeaseSql('$1', '$2', '$3'), [jobId, workerId, leaseMs]);
    return res.rowCount === 1;
  }

  /** Marks the job done. False if the caller no longer holds it (nothing changed). */
  async complete(jobId: string, workerId: string): Promise<boolean> {
    const res = await this.db.query(
      `UPDATE jobs SET status = 'done', locked_by = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1 AND locked_by = $2 AND status = 'active'`,
      [jobId, workerId],
    );
    return res.rowCount === 1;
  }

  /**
   * Records a failed attempt: back to `queued` after a backoff while attempts remain, else
   * `failed` for good. Returns the new status, or undefined if the caller no longer holds it.
   */
  async fail(jobId: string, workerId: string, error: string, options: FailOptions = {}): Promise<'queued' | 'failed' | undefined> {
    const res = await this.db.query<{ status: 'queued' | 'failed' }>(
      `UPDATE jobs SET
         status      = CASE WHEN $4 OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         run_after   = CASE WHEN $4 OR attempts >= max_attempts THEN run_after
                         ELSE now() + coalesce($5::double precision,
                                               least(300000, 1000 * power(2, greatest(attempts - 1, 0)))) * interval '1 millisecond' END,
         last_error  = $3,
         locked_by   = NULL,
         lease_until = NULL,
         updated_at  = now()
       WHERE id = $1 AND locked_by = $2 AND status = 'active'
       RETURNING status`,
      [jobId, workerId, error.slice(0, MAX_ERROR_CHARS), options.permanent === true, options.retryInMs ?? null],
    );
    return res.rows[0]?.status;
  }

  /**
   * Hands the job back without counting the attempt (graceful shutdown: another worker may take
   * it at once). False if the caller no longer holds it.
   */
  async release(jobId: string, workerId: string): Promise<boolean> {
    const res = await this.db.query(
      `UPDATE jobs SET status = 'queued', attempts = greatest(attempts - 1, 0), run_after = now(),
         locked_by = NULL, lease_until = NULL, updated_at = now()
       WHERE id = $1 AND locked_by = $2 AND status = 'active'`,
      [jobId, workerId],
    );
    return res.rowCount === 1;
  }

  /**
   * Ends unfinished jobs (queued or active) as `failed` with `reason`. A worker running one of
   * them learns it at its next heartbeat (its AbortSignal fires). False if it was not unfinished.
   */
  async cancel(jobId: string, reason = 'cancelled'): Promise<boolean> {
    return (await this.cancelWhere('id = $1', [jobId], reason)) > 0;
  }

  /** Like cancel, by singleton key (e.g. all unfinished jobs of a run). Returns how many. */
  async cancelBySingletonKeys(keys: readonly string[], reason = 'cancelled'): Promise<number> {
    if (keys.length === 0) return 0;
    return this.cancelWhere('singleton_key = ANY($1::text[])', [keys], reason);
  }

  async delete(jobId: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM jobs WHERE id = $1', [jobId]);
    return res.rowCount === 1;
  }

  /**
   * Removes finished jobs (done or failed) last touched before `olderThan`; returns how many. In
   * batches, each a short statement, skipping rows another purger holds: several nodes may purge
   * at once, and a large backlog never holds many row locks for long.
   */
  async purgeFinished(olderThan: Date, batchSize = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const res = await this.db.query(
        `DELETE FROM jobs WHERE id IN (
           SELECT id FROM jobs WHERE status IN ('done', 'failed') AND updated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [olderThan, batchSize],
      );
      total += res.rowCount;
      if (res.rowCount < batchSize) return total;
    }
  }

  async get<P = unknown>(jobId: string): Promise<Job<P> | undefined> {
    const res = await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [jobId]);
    return res.rows[0] && toJob<P>(res.rows[0]);
  }

  /** The unfinished job of a singleton key, if any. */
  async findUnfinished<P = unknown>(singletonKey: string): Promise<Job<P> | undefined> {
    const res = await this.db.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE singleton_key = $1 AND status IN ('queued', 'active')`,
      [singletonKey],
    );
    return res.rows[0] && toJob<P>(res.rows[0]);
  }

  private async cancelWhere(where: string, params: unknown[], reason: string): Promise<number> {
    const res = await this.db.query(
      `UPDATE jobs SET status = 'failed', last_error = $${params.length + 1}, locked_by = NULL, lease_until = NULL, updated_at = now()
       WHERE ${where} AND status IN ('queued', 'active')`,
      [...params, reason],
    );
    return res.rowCount;
  }
}
