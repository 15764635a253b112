import { randomUUID } from 'node:crypto';
import { JobQueue } from '../../db/queue/job-queue.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { sleep } from './fixtures.js';

describe.each(DATABASE_KINDS)('job queue on %s', (kind) => {
  let t: TestDatabase;
  let q: JobQueue;
  // Each test uses its own queue name, so tests never see each other's jobs.
  const queueName = () => `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    q = new JobQueue(t.db);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test('enqueue then claim leases the job to one worker and counts the attempt', async () => {
    const name = queueName();
    const job = await q.enqueue({ queue: name, payload: { n: 1 } });
    expect(job).toMatchObject({ status: 'queued', attempts: 0, maxAttempts: 5, payload: { n: 1 } });
    const a = await q.claim(name, 'A', 10_000, 10);
    expect(a.jobs.map((j) => j.id)).toEqual([job!.id]);
    expect(a.jobs[0]).toMatchObject({ status: 'active', attempts: 1, lockedBy: 'A' });
    expect((await q.claim(name, 'B', 10_000, 10)).jobs).toEqual([]);
    expect(await q.heartbeat(job!.id, 'A', 10_000)).toBe(true);
    expect(await q.complete(job!.id, 'B')).toBe(false);
    expect(await q.complete(job!.id, 'A')).toBe(true);
    expect((await q.get(job!.id))?.status).toBe('done');
  });

  test('a job is not claimable before run_after', async () => {
    const name = queueName();
    await q.enqueue({ queue: name, payload: {}, runAfter: new Date(Date.now() + 60_000) });
    expect((await q.claim(name, 'A', 10_000, 10)).jobs).toEqual([]);
  });

  test('50 jobs claimed by 4 concurrent claimers: each is claimed exactly once', async () => {
    const name = queueName();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add((await q.enqueue({ queue: name, payload: { i } }))!.id);
    const seen: string[] = [];
    await Promise.all(
      ['w1', 'w2', 'w3', 'w4'].map(async (w) => {
        for (;;) {
          const { jobs } = await q.claim(name, w, 10_000, 3);
          if (jobs.length === 0) return;
          for (const j of jobs) {
            seen.push(j.id);
            expect(await q.complete(j.id, w)).toBe(true);
          }
        }
      }),
    );
    expect(seen).toHaveLength(50);
    expect(new Set(seen)).toEqual(ids);
  });

  test('an expired lease is re-claimed, and the old holder can no longer renew, complete or fail it', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    expect((await q.claim(name, 'old', 150, 1)).jobs).toHaveLength(1);
    expect((await q.claim(name, 'new', 10_000, 1)).jobs).toHaveLength(0); // lease still live
    await sleep(250);
    const again = await q.claim(name, 'new', 10_000, 1);
    expect(again.jobs.map((j) => [j.id, j.attempts, j.lockedBy])).toEqual([[job.id, 2, 'new']]);
    expect(await q.heartbeat(job.id, 'old', 10_000)).toBe(false);
    expect(await q.complete(job.id, 'old')).toBe(false);
    expect(await q.fail(job.id, 'old', 'boom')).toBeUndefined();
    expect(await q.release(job.id, 'old')).toBe(false);
    expect(await q.complete(job.id, 'new')).toBe(true);
  });

  test('a claimer never re-claims the expired jobs it says it is running', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    await q.claim(name, 'A', 50, 1);
    await sleep(100);
    expect((await q.claim(name, 'A', 10_000, 1, [job.id])).jobs).toEqual([]);
    expect((await q.claim(name, 'A', 10_000, 1)).jobs).toHaveLength(1);
  });

  test('a singleton key allows one unfinished job; a new one once it is done', async () => {
    const name = queueName();
    const key = `run:${randomUUID()}`;
    const first = await q.enqueue({ queue: name, payload: {}, singletonKey: key });
    expect(first).toBeDefined();
    expect(await q.enqueue({ queue: name, payload: {}, singletonKey: key })).toBeUndefined();
    await q.claim(name, 'A', 10_000, 1);
    expect(await q.enqueue({ queue: name, payload: {}, singletonKey: key })).toBeUndefined(); // active still counts
    expect((await q.findUnfinished(key))?.id).toBe(first!.id);
    await q.complete(first!.id, 'A');
    expect(await q.enqueue({ queue: name, payload: {}, singletonKey: key })).toBeDefined();
  });

  test('a singleton enqueue inside a rolled-back transaction leaves nothing behind', async () => {
    const name = queueName();
    const key = `run:${randomUUID()}`;
    await expect(
      t.db.transaction(async (tx) => {
        await new JobQueue(tx).enqueue({ queue: name, payload: {}, singletonKey: key });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await q.findUnfinished(key)).toBeUndefined();
    expect(await q.enqueue({ queue: name, payload: {}, singletonKey: key })).toBeDefined();
  });

  test('failed attempts are retried with backoff until max_attempts, then the job fails for good', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {}, maxAttempts: 2 }))!;
    await q.claim(name, 'A', 10_000, 1);
    expect(await q.fail(job.id, 'A', 'first')).toBe('queued');
    const backedOff = (await q.get(job.id))!;
    expect(backedOff.runAfter.getTime()).toBeGreaterThan(Date.now() + 500); // default backoff: 1 s
    expect((await q.claim(name, 'A', 10_000, 1)).jobs).toEqual([]);
    await t.db.query('UPDATE jobs SET run_after = now() WHERE id = $1', [job.id]);
    expect((await q.claim(name, 'A', 10_000, 1)).jobs[0]?.attempts).toBe(2);
    expect(await q.fail(job.id, 'A', 'second', { retryInMs: 0 })).toBe('failed');
    expect(await q.get(job.id)).toMatchObject({ status: 'failed', lastError: 'second', lockedBy: null });
  });

  test('a permanent failure does not retry', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {} }))!;
    await q.claim(name, 'A', 10_000, 1);
    expect(await q.fail(job.id, 'A', 'bad payload', { permanent: true })).toBe('failed');
  });

  test('a lease that expires on the last attempt moves the job to failed and reports it', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {}, maxAttempts: 1 }))!;
    await q.claim(name, 'dead', 50, 1);
    await sleep(120);
    const res = await q.claim(name, 'B', 10_000, 5);
    expect(res.jobs).toEqual([]);
    expect(res.exhausted.map((j) => j.id)).toEqual([job.id]);
    expect(await q.get(job.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await q.get(job.id))?.lastError).toMatch(/lease expired/);
  });

  test('release hands the job back without counting the attempt; cancel ends it', async () => {
    const name = queueName();
    const job = (await q.enqueue({ queue: name, payload: {}, singletonKey: `k:${randomUUID()}` }))!;
    await q.claim(name, 'A', 10_000, 1);
    expect(await q.release(job.id, 'A')).toBe(true);
    expect(await q.get(job.id)).toMatchObject({ status: 'queued', attempts: 0, lockedBy: null });
    await q.claim(name, 'B', 10_000, 1);
    expect(await q.cancelBySingletonKeys([job.singletonKey!], 'run cancelled')).toBe(1);
    expect(await q.get(job.id)).toMatchObject({ status: 'failed', lastError: 'run cancelled' });
    expect(await q.heartbeat(job.id, 'B', 10_000)).toBe(false);
    expect(await q.cancel(job.id)).toBe(false);
    expect(await q.delete(job.id)).toBe(true);
    expect(await q.get(job.id)).toBeUndefined();
  });

  test('queue names are checked (they become NOTIFY channel names)', async () => {
    await expect(q.enqueue({ queue: 'Bad-Name; DROP', payload: {} })).rejects.toThrow(/invalid queue name/);
  });
});
