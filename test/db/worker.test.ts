import { randomUUID } from 'node:crypto';
import { JobQueue, type Job } from '../../db/queue/job-queue.js';
import { LeaseLostError } from '../../db/queue/lease-fence.js';
import { PermanentJobError, Worker, WorkerStoppingError, type JobContext, type JobHandler } from '../../db/queue/job-worker.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { sleep, waitFor } from './fixtures.js';

/** Resolves when the signal fires, with its reason. */
const aborted = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));

describe.each(DATABASE_KINDS)('queue worker on %s', (kind) => {
  let t: TestDatabase;
  let q: JobQueue;
  const workers: Worker<never>[] = [];
  const queueName = () => `w_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  function worker<P>(queue: string, handler: JobHandler<P>, opts: Partial<ConstructorParameters<typeof Worker<P>>[0]> = {}): Worker<P> {
    const w = new Worker<P>({ db: t.db, queue, handler, pollMs: 50, ...opts });
    workers.push(w as unknown as Worker<never>);
    return w;
  }

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    q = new JobQueue(t.db);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop(2000)));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test('50 jobs, 4 workers of concurrency 2: every job is processed exactly once', async () => {
    const name = queueName();
    for (let i = 0; i < 50; i++) await q.enqueue({ queue: name, payload: { i } });
    const processed = new Map<number, number>();
    const byWorker = new Map<string, number>();
    let running = 0;
    let maxRunning = 0;
    for (let w = 0; w < 4; w++) {
      const wk = worker<{ i: number }>(name, async (job, ctx) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        processed.set(job.payload.i, (processed.get(job.payload.i) ?? 0) + 1);
        byWorker.set(ctx.workerId, (byWorker.get(ctx.workerId) ?? 0) + 1);
        await sleep(5);
        running--;
      }, { concurrency: 2 });
      await wk.start();
    }
    await waitFor('50 jobs done', async () => {
      const res = await t.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM jobs WHERE queue = $1 AND status = 'done'`, [name]);
      return Number(res.rows[0]!.n) === 50;
    });
    expect([...processed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...processed.values()].every((n) => n === 1)).toBe(true);
    expect(maxRunning).toBeLessThanOrEqual(8);
    const attempts = await t.db.query<{ attempts: number }>('SELECT DISTINCT attempts FROM jobs WHERE queue = $1', [name]);
    expect(attempts.rows).toEqual([{ attempts: 1 }]);
  });

  test('a NOTIFY at enqueue wakes an idle worker long before its poll interval', async () => {
    const name = queueName();
    let startedAt = 0;
    const w = worker(name, async () => {
      startedAt = Date.now();
    }, { pollMs: 300_000 });
    await w.start();
    await sleep(200); // the worker has polled once and sleeps for ~300 s
    const enqueuedAt = Date.now();
    await q.enqueue({ queue: name, payload: {} });
    await waitFor('the job to start', () => startedAt > 0, 40_000);
    expect(startedAt - enqueuedAt).toBeLessThan(30_000); // not the 300 s poll; far from it even on a loaded machine
  });

  test('a run never executes twice at once: long handlers keep their lease by heartbeat', async () => {
    const name = queueName();
    // Each handler runs for 3 lease lengths; without heartbeats the others would take its job.
    const leaseMs = 300;
    const active = new Map<string, number>();
    let overlaps = 0;
    const runs = new Map<string, number>();
    for (let i = 0; i < 6; i++) await q.enqueue({ queue: name, payload: { run: `r${i}` }, singletonKey: `run:${name}:${i}` });
    for (let w = 0; w < 3; w++) {
      await worker<{ run: string }>(name, async (job) => {
        const run = job.payload.run;
        active.set(run, (active.get(run) ?? 0) + 1);
        if (active.get(run)! > 1) overlaps++;
        runs.set(run, (runs.get(run) ?? 0) + 1);
        await sleep(leaseMs * 3);
        active.set(run, active.get(run)! - 1);
      }, { concurrency: 2, leaseMs, heartbeatMs: 80, pollMs: 20 }).start();
    }
    await waitFor('6 runs done', async () => {
      const res = await t.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM jobs WHERE queue = $1 AND status = 'done'`, [name]);
      return Number(res.rows[0]!.n) === 6;
    }, 20_000);
    expect(overlaps).toBe(0);
    expect([...runs.values()]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test('a worker cut off from the database stops its handler before another worker can start the job', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    // Fault injection on a real connection: once `down`, every statement of worker A fails.
    let down = false;
    const cutOff = Object.create(t.db) as typeof t.db;
    cutOff.query = ((sql: string, params?: readonly unknown[]) =>
      down ? Promise.reject(new Error('connection lost')) : t.db.query(sql, params)) as typeof t.db.query;
    let abortedAt = 0;
    let startedB = 0;
    await worker(name, async (_j, ctx) => {
      down = true;
      await aborted(ctx.signal);
      abortedAt = Date.now();
    }, { db: cutOff, leaseMs: 300, heartbeatMs: 60 }).start();
    await waitFor('A to run the job', () => down);
    await worker(name, async () => {
      startedB = Date.now();
    }, { pollMs: 10 }).start();
    await waitFor('B to take over', () => startedB > 0, 5000);
    expect(abortedAt).toBeGreaterThan(0);
    expect(abortedAt).toBeLessThan(startedB);
    expect((await q.get(job.id))?.attempts).toBe(2);
  });

  test("a dead worker's job is resumed after its lease runs out, and not before", async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    const claimedAt = Date.now();
    expect((await q.claim(name, 'dead-node', 400, 1)).jobs).toHaveLength(1); // then it "dies"
    const started: Job[] = [];
    let startedAt = 0;
    await worker(name, async (j) => {
      startedAt = Date.now();
      started.push(j);
    }, { pollMs: 25 }).start();
    await waitFor('the job to be resumed', () => started.length > 0, 5000);
    expect(startedAt - claimedAt).toBeGreaterThanOrEqual(380);
    expect(started.map((j) => [j.id, j.attempts])).toEqual([[job.id, 2]]);
    await waitFor('done', async () => (await q.get(job.id))?.status === 'done');
    expect(await q.complete(job.id, 'dead-node')).toBe(false);
  });

  test('when the lease is lost (job cancelled elsewhere) the signal fires and nothing is written', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    let reason: unknown;
    await worker(name, async (_j, ctx) => {
      reason = await aborted(ctx.signal);
    }, { leaseMs: 300, heartbeatMs: 50 }).start();
    await waitFor('the job to start', async () => (await q.get(job.id))?.status === 'active');
    await q.cancel(job.id, 'run cancelled');
    await waitFor('the abort', () => reason !== undefined, 3000);
    expect(reason).toBeInstanceOf(LeaseLostError);
    await sleep(50);
    expect(await q.get(job.id)).toMatchObject({ status: 'failed', lastError: 'run cancelled' });
  });

  test('ctx.lease fences a write in its statement: done while held; once re-claimed elsewhere, nothing is written and the signal fires', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    // A fenced write to a table of the handler's own (not the jobs row: one statement modifies a row once).
    await t.db.query('CREATE TABLE IF NOT EXISTS fenced_writes (job_id uuid, note text)');
    const write = (ctx: JobContext, note: string): Promise<unknown> =>
      ctx.lease.query(t.db, [job.id, note], (f) => `WITH ${f.cte}, w AS (INSERT INTO fenced_writes SELECT $1::uuid, $2::text WHERE ${f.held} RETURNING 1)
        SELECT ${f.held} AS lease_held, (SELECT count(*) FROM w)::int AS written`);
    let held: unknown;
    let outcome: unknown;
    let reason: unknown;
    const leaseUntil: (Date | null | undefined)[] = [];
    await worker(name, async (_j, ctx) => {
      leaseUntil.push((await q.get(job.id))?.leaseUntil);
      await sleep(20);
      held = await write(ctx, 'held');
      leaseUntil.push((await q.get(job.id))?.leaseUntil);
      await t.db.query(`UPDATE jobs SET locked_by = 'someone-else' WHERE id = $1`, [job.id]); // re-claimed elsewhere
      outcome = await write(ctx, 'lost').catch((e: unknown) => e);
      reason = ctx.signal.reason;
    }, { heartbeatMs: 60_000 }).start();
    await waitFor('the handler', () => outcome !== undefined);
    expect(held).toEqual({ lease_held: true, written: 1 });
    expect(leaseUntil[1]!.getTime()).toBeGreaterThan(leaseUntil[0]!.getTime()); // the fenced write renewed the lease
    expect(outcome).toBeInstanceOf(LeaseLostError);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect((await q.get(job.id))?.lockedBy).toBe('someone-else');
    expect((await t.db.query('SELECT note FROM fenced_writes WHERE job_id = $1', [job.id])).rows).toEqual([{ note: 'held' }]);
  });

  test('a throwing handler is retried; a PermanentJobError fails the job at once', async () => {
    const name = queueName();
    const retried = (await q.enqueue({ queue: name, payload: { permanent: false }, maxAttempts: 3 }))!;
    const permanent = (await q.enqueue({ queue: name, payload: { permanent: true }, maxAttempts: 3 }))!;
    const calls = new Map<string, number>();
    await worker<{ permanent: boolean }>(name, async (job) => {
      calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
      if (job.payload.permanent) throw new PermanentJobError('invalid payload');
      if (job.attempts < 3) throw new Error(`attempt ${job.attempts} failed`);
    }, { retryInMs: () => 0 }).start();
    await waitFor('both finished', async () => (await q.get(retried.id))?.status === 'done' && (await q.get(permanent.id))?.status === 'failed');
    expect(calls.get(retried.id)).toBe(3);
    expect(calls.get(permanent.id)).toBe(1);
    expect((await q.get(permanent.id))?.lastError).toBe('invalid payload');
  });

  test('concurrency is a per-worker cap', async () => {
    const name = queueName();
    for (let i = 0; i < 6; i++) await q.enqueue({ queue: name, payload: {} });
    let running = 0;
    let max = 0;
    await worker(name, async () => {
      running++;
      max = Math.max(max, running);
      await sleep(60);
      running--;
    }, { concurrency: 3 }).start();
    await waitFor('all done', async () => {
      const res = await t.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM jobs WHERE queue = $1 AND status = 'done'`, [name]);
      return Number(res.rows[0]!.n) === 6;
    });
    expect(max).toBe(3);
  });

  test('stop() aborts running handlers, waits for them, and hands their jobs back uncounted', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    let reason: unknown;
    const w = worker(name, async (_j, ctx) => {
      reason = await aborted(ctx.signal);
      await sleep(50); // winding down
      throw reason;
    });
    await w.start();
    await waitFor('the job to start', async () => (await q.get(job.id))?.status === 'active');
    expect(await w.stop(2000)).toEqual({ abandoned: 0 });
    expect(reason).toBeInstanceOf(WorkerStoppingError);
    expect(await q.get(job.id)).toMatchObject({ status: 'queued', attempts: 0, lockedBy: null });
  });

  test('stop() gives up on a handler that ignores the signal after the timeout', async () => {
    const name = queueName();
    await q.enqueue({ queue: name, payload: {} });
    let release!: () => void;
    const w = worker(name, () => new Promise<void>((r) => (release = r)));
    await w.start();
    await waitFor('the job to start', () => w.running.length === 1);
    expect(await w.stop(100)).toEqual({ abandoned: 1 });
    release();
  });

  test('onExhausted reports a job whose lease ran out on its last attempt', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {}, maxAttempts: 1 }))!;
    await q.claim(name, 'dead-node', 50, 1);
    const reported: string[] = [];
    await worker(name, async () => undefined, { onExhausted: (j) => void reported.push(j.id) }).start();
    await waitFor('the report', () => reported.length === 1, 3000);
    expect(reported).toEqual([job.id]);
  });
});
