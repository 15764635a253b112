import { randomUUID } from 'node:crypto';
import { JobQueue } from '../../db/queue/job-queue.js';
import { Worker } from '../../db/queue/job-worker.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { enqueueRun } from '../../runs/enqueue-run.js';
import { RUNS_QUEUE, type RunJobPayload } from '../../runs/runs-repo.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { newProject, waitFor } from './fixtures.js';

/** Claims take groups (users) in turns: one group's backlog never holds another group's jobs back. */
describe.each(DATABASE_KINDS)('fair claiming across groups on %s', (kind) => {
  let t: TestDatabase;
  let q: JobQueue;
  const queueName = () => `f_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    q = new JobQueue(t.db);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  /** Enqueues one job per name, in order; the group is the name's first letter. */
  async function enqueueAll(queue: string, names: string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const name of names) ids.set((await q.enqueue({ queue, payload: { name }, groupKey: name[0]! }))!.id, name);
    return ids;
  }
  const namesOf = (ids: Map<string, string>, jobs: { id: string }[]): string[] => jobs.map((j) => ids.get(j.id)!).sort();

  test('one claim of two slots takes the oldest job of each group, not two of the first group', async () => {
    const name = queueName();
    const ids = await enqueueAll(name, ['A1', 'A2', 'A3', 'A4', 'B1']);
    const first = await q.claim(name, 'w1', 60_000, 2);
    expect(namesOf(ids, first.jobs)).toEqual(['A1', 'B1']);
    expect(first.jobs.find((j) => ids.get(j.id) === 'B1')).toMatchObject({ groupKey: 'B', status: 'active', attempts: 1 });
    // B has nothing left: A's backlog goes on in its own order.
    expect(namesOf(ids, (await q.claim(name, 'w2', 60_000, 5)).jobs)).toEqual(['A2', 'A3', 'A4']);
  });

  test('claims of one slot alternate: B is claimed second, before A2, though enqueued after all of A', async () => {
    const name = queueName();
    const ids = await enqueueAll(name, ['A1', 'A2', 'A3', 'A4', 'B1', 'B2']);
    const order: string[] = [];
    for (;;) {
      const { jobs } = await q.claim(name, `w${order.length}`, 60_000, 1);
      if (jobs.length === 0) break;
      order.push(...namesOf(ids, jobs));
    }
    expect(order).toEqual(['A1', 'B1', 'A2', 'B2', 'A3', 'A4']);
  });

  test('a group\'s jobs running elsewhere count: a group with none running goes first', async () => {
    const name = queueName();
    const ids = await enqueueAll(name, ['A1', 'A2', 'A3']);
    // Another node runs A1 and A2.
    expect(namesOf(ids, (await q.claim(name, 'other-node', 60_000, 2)).jobs)).toEqual(['A1', 'A2']);
    for (const [id, n] of await enqueueAll(name, ['C1'])) ids.set(id, n);
    // A3 is older than C1, but A runs two jobs and C none.
    expect(namesOf(ids, (await q.claim(name, 'w', 60_000, 1)).jobs)).toEqual(['C1']);
    expect(namesOf(ids, (await q.claim(name, 'w', 60_000, 1)).jobs)).toEqual(['A3']);
  });

  test('a job whose lease ran out is claimable again and no longer counts as its group\'s running job', async () => {
    const name = queueName();
    const ids = await enqueueAll(name, ['A1', 'A2', 'B1']);
    const dead = await q.claim(name, 'dead-node', 60_000, 1);
    expect(namesOf(ids, dead.jobs)).toEqual(['A1']);
    // The dead node's lease ends (set in the past rather than waited for: no clock in the test).
    await t.db.query("UPDATE jobs SET lease_until = now() - interval '1 hour' WHERE id = $1", [dead.jobs[0]!.id]);
    // A1 (expired, turn 0, oldest) and B1 (turn 0) before A2 (turn 1).
    expect(namesOf(ids, (await q.claim(name, 'w', 60_000, 2)).jobs)).toEqual(['A1', 'B1']);
  });

  test('jobs without a group keep plain FIFO order, and share turn 0 with the first job of each group', async () => {
    const name = queueName();
    const a1 = await q.enqueue({ queue: name, payload: {}, groupKey: 'A' });
    const a2 = await q.enqueue({ queue: name, payload: {}, groupKey: 'A' });
    const n1 = await q.enqueue({ queue: name, payload: {} });
    const n2 = await q.enqueue({ queue: name, payload: {} });
    const claimed = (await q.claim(name, 'w', 60_000, 3)).jobs.map((j) => j.id).sort();
    expect(claimed).toEqual([a1!.id, n1!.id, n2!.id].sort());
    expect((await q.get(a2!.id))?.status).toBe('queued');
  });

  test('runs queue: user B\'s run, created after user A\'s four, is claimed by a 2-slot worker before A\'s third', async () => {
    // Real runs (enqueueRun enqueues with the user as group; A's four are in four projects, one
    // active run each); a recording handler stands in for the pipeline, which is not what this
    // test is about, and holds each slot until released.
    const a = await newProject(t.db);
    const b = await newProject(t.db);
    const owner = new Map<string, string>();
    const create = async (p: { user: { id: string }; projectId: string }, label: string) => {
      const { run } = await enqueueRun(t.db, { projectId: p.projectId, userId: p.user.id, kind: 'generate', prompt: 'x', provider: 'openai', model: 'm', keyId: null, keySource: 'platform' });
      owner.set(run.id, label);
    };
    await create(a, 'A1');
    for (const label of ['A2', 'A3', 'A4']) {
      const project = await new ProjectsRepo(t.db).create({ userId: a.user.id, name: label, prompt: 'x' });
      await create({ user: a.user, projectId: project.id }, label);
    }
    await create(b, 'B1');

    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const worker = new Worker<RunJobPayload>({
      db: t.db,
      queue: RUNS_QUEUE,
      concurrency: 2,
      pollMs: 50,
      handler: async (job) => {
        const label = owner.get(job.payload.runId)!;
        started.push(label);
        await new Promise<void>((resolve) => gates.set(label, resolve));
      },
    });
    await worker.start();
    try {
      await waitFor('two runs to start', () => started.length === 2 && gates.size === 2);
      expect([...started].sort()).toEqual(['A1', 'B1']);
      // Free slots one at a time; A's backlog follows in order.
      let holding = 'A1';
      for (const next of ['A2', 'A3', 'A4']) {
        gates.get(holding)!();
        await waitFor(`${next} to start`, () => started.includes(next) && gates.has(next));
        holding = next;
      }
      expect(started.indexOf('B1')).toBeLessThan(started.indexOf('A3'));
      expect(started.slice(2)).toEqual(['A2', 'A3', 'A4']);
    } finally {
      for (const release of gates.values()) release();
      await worker.stop(5000);
    }
  });
});
