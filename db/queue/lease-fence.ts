import type { Queryable } from '../port.js';
import { renewLeaseSql } from './job-queue.js';

/** The signal's reason when the job's lease is gone: the worker must not write anything more. */
export class LeaseLostError extends Error {
  constructor(message = 'job lease lost') {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/** A job lease as its holder knows it. */
export interface JobLease {
  jobId: string;
  workerId: string;
  leaseMs: number;
}

/** What a fenced statement is built from (see LeaseFence.query). */
export interface FenceSql {
  /** The `lease_fence` CTE, to open the statement's WITH list. */
  cte: string;
  /** A condition true iff the lease is held: put it on every write, and select it as `lease_held`. */
  held: string;
}

/**
 * Fences a job handler's writes to its lease in the statement that makes them, with no separate
 * round trip: the statement's first CTE renews the lease (the heartbeat's UPDATE, see
 * renewLeaseSql), and every write is conditioned on that CTE having matched. So a worker whose
 * lease is gone (re-claimed elsewhere, cancelled, finished) writes nothing. While the writing
 * transaction lasts, the renewal's row lock keeps claimers off the job (they SKIP LOCKED rows), so
 * nobody can take the job between the check and the commit of the writes.
 *
 * PostgreSQL runs every data-modifying CTE, referenced or not, and all on the statement's one
 * snapshot, where the renewal's effect is invisible: a write is fenced only by referring to the
 * fence CTE's output (`held`), never by ordering. For the same reason a fenced statement must not
 * write the job's row itself: a statement modifies a row once, so that write would be dropped.
 */
export class LeaseFence {
  /** @param onLost stops the handler (the worker aborts its signal with a LeaseLostError). */
  constructor(
    private readonly lease: JobLease,
    private readonly onLost: () => void,
  ) {}

  /**
   * Runs a fenced statement and returns its row. `build` gets the fence's SQL and writes the
   * statement (`WITH ${f.cte}, … WHERE … AND ${f.held} … SELECT ${f.held} AS lease_held, …`), which
   * must return exactly one row; its own parameters are `params`, the fence's follow them.
   * @throws LeaseLostError (after stopping the handler) when the lease was not held: nothing was written.
   */
  async query<R extends object>(db: Queryable, params: unknown[], build: (f: FenceSql) => string): Promise<R> {
    const n = params.length;
    const cte = `lease_fence AS (${renewLeaseSql(`$${n + 1}`, `$${n + 2}`, `$${n + 3}`)} RETURNING id)`;
    const sql = build({ cte, held: 'EXISTS (SELECT 1 FROM lease_fence)' });
    const res = await db.query<R & { lease_held: boolean }>(sql, [...params, this.lease.jobId, this.lease.workerId, this.lease.leaseMs]);
    const row = res.rows[0];
    if (row?.lease_held === undefined) throw new Error('a fenced statement must return one row with lease_held');
    if (!row.lease_held) {
      this.onLost();
      throw new LeaseLostError();
    }
    return row;
  }
}
