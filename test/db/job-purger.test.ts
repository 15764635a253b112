import type { Clock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import { startJobPurger, type JobPurger } from '../../db/queue/job-purger.js';
import { JobQueue } from '../../db/queue/job-queue.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

const DAY = 24 * 3_600_000;
const FINISHED_AT = new Date('2026-01-01T00:00:00Z');

describe.each(DATABASE_KINDS)('finished jobs are purged after the retention on %s', (kind) => {
  let t: TestDatabase;
  let q: JobQueue;
  // The purger's "now", moved by the test instead of waiting.
  let now = FINISHED_AT;
  const clock: Clock = { now: () => now };
  const purgers: JobPurger[] = [];
  // An hour's interval never fires during the test: every pass is an explicit purgeOnce().
  const purger = () => {
    const p = startJobPurger({ db: t.db, clock, logger: createLogger({ level: 'silent' }), settings: { retentionMs: 7 * DAY, intervalMs: 3_600_000 } });
    purgers.push(p);
    return p;
  };

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    q = new JobQueue(t.db);
  });
  // Each test starts from an empty table: the counts below are the whole table's.
  beforeEach(async () => {
    await t.db.query('DELETE FROM jobs');
  });
  afterEach(async () => {
    await Promise.all(purgers.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  const statuses = async () =>
    (await t.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM jobs GROUP BY status ORDER BY status')).rows;

  test('done and failed jobs go once older than the retention; queued and active ones never', async () => {
    const done = (await q.enqueue({ queue: 'q', payload: { n: 1 } }))!;
    await q.claim('q', 'w', 60_000, 1);
    expect(await q.complete(done.id, 'w')).toBe(true);
    const cancelled = (await q.enqueue({ queue: 'q', payload: { n: 2 } }))!;
    expect(await q.cancel(cancelled.id)).toBe(true);
    const active = (await q.enqueue({ queue: 'q', payload: { n: 3 } }))!;
    await q.claim('q', 'w', 60_000, 1);
    await q.enqueue({ queue: 'q', payload: { n: 4 } });
    // Every row last touched at FINISHED_AT (the database's own now() is not what is tested here).
    await t.db.query('UPDATE jobs SET updated_at = $1', [FINISHED_AT]);
    expect(await statuses()).toEqual([
      { status: 'active', n: 1 },
      { status: 'done', n: 1 },
      { status: 'failed', n: 1 },
      { status: 'queued', n: 1 },
    ]);
    const p = purger();

    now = new Date(FINISHED_AT.getTime() + 7 * DAY - 1);
    expect(await p.purgeOnce()).toBe(0);
    expect(await q.get(done.id)).toBeDefined();

    now = new Date(FINISHED_AT.getTime() + 7 * DAY + 1);
    expect(await p.purgeOnce()).toBe(2);
    expect(await q.get(done.id)).toBeUndefined();
    expect(await q.get(cancelled.id)).toBeUndefined();
    expect(await statuses()).toEqual([
      { status: 'active', n: 1 },
      { status: 'queued', n: 1 },
    ]);
    // The unfinished ones are as they were: the active job's lease holder can still complete it.
    expect(await q.complete(active.id, 'w')).toBe(true);
    expect(await p.purgeOnce()).toBe(0);
  });

  test('a backlog larger than a batch goes entirely, with several purgers at once, each row once', async () => {
    await t.db.query(
      `INSERT INTO jobs (queue, status, updated_at) SELECT 'bulk', CASE WHEN i % 2 = 0 THEN 'done' ELSE 'failed' END, $1 FROM generate_series(1, 2500) AS i`,
      [FINISHED_AT],
    );
    await t.db.query(`INSERT INTO jobs (queue, status, updated_at) SELECT 'bulk', 'done', $1 FROM generate_series(1, 30)`, [new Date(FINISHED_AT.getTime() + 5 * DAY)]);
    now = new Date(FINISHED_AT.getTime() + 8 * DAY);
    const removed = await Promise.all([purger().purgeOnce(), purger().purgeOnce(), purger().purgeOnce()]);
    expect(removed.reduce((a, b) => a + b, 0)).toBe(2500);
    expect(await statuses()).toEqual([{ status: 'done', n: 30 }]);
  });

  test('purgeFinished deletes in batches of the given size until none is left', async () => {
    await t.db.query(`INSERT INTO jobs (queue, status, updated_at) SELECT 'bulk', 'done', $1 FROM generate_series(1, 250)`, [FINISHED_AT]);
    expect(await q.purgeFinished(new Date(FINISHED_AT.getTime() + 1), 100)).toBe(250);
    expect(await statuses()).toEqual([]);
  });
});
