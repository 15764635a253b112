import { isDeepStrictEqual } from 'node:util';
import { JobQueue } from '../../db/queue/job-queue.js';
import { LeaseLostError, type LeaseFence } from '../../db/queue/lease-fence.js';
import type { Queryable } from '../../db/port.js';
import { EVENTS_CHANNEL, EventsRepo, parseEventNotice } from '../../events/event-log.js';
import { RunsRepo, type Run } from '../../runs/runs-repo.js';
import { enqueueRun } from '../../runs/enqueue-run.js';
import { StepsRepo, type Step } from '../../db/repos/steps.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { leaseJob, newProject, waitFor } from './fixtures.js';

/**
 * The run job holder's writes at step and run boundaries: each one statement fenced by the lease
 * (StepsRepo.start/finish/fail, RunsRepo.transitionAsHolder).
 */
describe.each(DATABASE_KINDS)('fenced step and run boundaries on %s', (kind) => {
  let t: TestDatabase;
  let statements: number;
  /** t.db, counting the statements sent through it. */
  let counted: Queryable;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    counted = { query: (sql, params) => (statements++, t.db.query(sql, params)), exec: (sql) => t.db.exec(sql) };
  });
  beforeEach(() => {
    statements = 0;
  });
  afterAll(async () => {
    await t.cleanup();
  });

  async function runningRun(): Promise<{ run: Run; jobId: string; user: { id: string }; lost: { count: number }; lease: LeaseFence }> {
    const { user, projectId } = await newProject(t.db);
    const created = await enqueueRun(t.db, { projectId, userId: user.id, kind: 'generate', prompt: 'p', provider: 'anthropic', model: 'm', keyId: null, keySource: 'platform' });
    const lost = { count: 0 };
    const lease = await leaseJob(t.db, created.job.id, 'worker-a', () => lost.count++);
    const { run } = await new RunsRepo(t.db).transitionAsHolder(lease, created.run.id, 'running', null, { type: 'run.started', data: { attempt: 1 } });
    return { run, jobId: created.job.id, user, lost, lease };
  }

  const eventsOf = async (run: Run, userId: string) => new EventsRepo(t.db).listSince(run.projectId, userId, 0, 100);
  const lastSeq = async (run: Run) => Number((await t.db.query<{ s: string }>('SELECT last_event_seq AS s FROM projects WHERE id = $1', [run.projectId])).rows[0]!.s);
  const leaseUntil = async (jobId: string) => (await new JobQueue(t.db).get(jobId))!.leaseUntil!.getTime();
  const started = (s: Step | 'cancel_requested'): Step => {
    if (s === 'cancel_requested') throw new Error('unexpected cancel_requested');
    return s;
  };

  test('held lease: a start and a finish are one statement each, renew the lease and append gapless events', async () => {
    const { run, jobId, user, lease } = await runningRun();
    const steps = new StepsRepo(counted);
    const before = await leaseUntil(jobId);
    await new Promise((r) => setTimeout(r, 5));
    const step = started(await steps.start(lease, { runId: run.id, seq: 1, kind: 'coder', taskId: 't1', round: 2 }, { attempt: 3 }));
    expect(statements).toBe(1);
    expect(await leaseUntil(jobId)).toBeGreaterThan(before);
    expect(step).toMatchObject({ runId: run.id, seq: 1, kind: 'coder', taskId: 't1', round: 2, status: 'running' });
    const done = await steps.finish(lease, step.id, { output: { files: 2 }, commitSha: 'abc123' }, { summary: 'wrote 2 files' });
    expect(statements).toBe(2);
    expect(done).toMatchObject({ id: step.id, status: 'succeeded', output: { files: 2 }, commitSha: 'abc123' });
    const events = await eventsOf(run, user.id);
    expect(events.map((e) => [e.seq, e.type, e.runId])).toEqual([
      [1, 'run.queued', run.id],
      [2, 'run.started', run.id],
      [3, 'step.started', run.id],
      [4, 'step.finished', run.id],
    ]);
    expect(events[2]!.data).toEqual({ seq: 1, kind: 'coder', taskId: 't1', round: 2, stepId: step.id, attempt: 3 });
    expect(events[3]!.data).toEqual({ seq: 1, kind: 'coder', taskId: 't1', round: 2, commitSha: 'abc123', summary: 'wrote 2 files' });
    expect(await lastSeq(run)).toBe(4);
  });

  test('the durable-event notice of a fenced start is sent', async () => {
    const { run, lease } = await runningRun();
    const heard: string[] = [];
    const unlisten = await t.db.listen(EVENTS_CHANNEL, (p) => heard.push(p));
    try {
      await new StepsRepo(t.db).start(lease, { runId: run.id, seq: 1, kind: 'planner' });
      const seq = await lastSeq(run);
      await waitFor('the step.started notice', () => heard.some((p) => isDeepStrictEqual(parseEventNotice(p), { kind: 'durable', projectId: run.projectId, seq })), 3000);
    } finally {
      await unlisten();
    }
  });

  test.each([
    ['re-claimed by another worker', (jobId: string) => t.db.query(`UPDATE jobs SET locked_by = 'worker-b' WHERE id = $1`, [jobId])],
    ['cancelled', (jobId: string) => new JobQueue(t.db).cancel(jobId, 'run cancelled')],
  ])('lost lease (job %s): start, finish, fail and run transition write nothing and raise LeaseLostError', async (_how, loseLease) => {
    const { run, jobId, user, lost, lease } = await runningRun();
    const steps = new StepsRepo(t.db);
    const running = started(await steps.start(lease, { runId: run.id, seq: 1, kind: 'planner' }));
    const rowsBefore = await steps.list(run.id);
    const seqBefore = await lastSeq(run);
    const jobBefore = await new JobQueue(t.db).get(jobId);
    await loseLease(jobId);

    await expect(steps.start(lease, { runId: run.id, seq: 2, kind: 'architect' })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(steps.start(lease, { runId: run.id, seq: 1, kind: 'planner' })).rejects.toBeInstanceOf(LeaseLostError); // the reset of an unfinished row
    await expect(steps.finish(lease, running.id, { output: { x: 1 }, commitSha: 'abc' }, { summary: 's' })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(steps.fail(lease, running.id, 'boom')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(new RunsRepo(t.db).transitionAsHolder(lease, run.id, 'succeeded', null, { type: 'run.finished', data: { status: 'succeeded', reason: null } })).rejects.toBeInstanceOf(LeaseLostError);
    // Each refusal stopped the handler, as a failed heartbeat does.
    expect(lost.count).toBe(5);

    expect(await steps.list(run.id)).toEqual(rowsBefore);
    expect(await lastSeq(run)).toBe(seqBefore);
    expect((await eventsOf(run, user.id)).map((e) => e.seq)).toEqual(Array.from({ length: seqBefore }, (_, i) => i + 1));
    expect((await new RunsRepo(t.db).getById(run.id))!.status).toBe('running');
    // The job row is the other holder's (or cancelled), its lease not renewed by the loser.
    const job = (await new JobQueue(t.db).get(jobId))!;
    expect(job.lockedBy).not.toBe('worker-a');
    if (job.leaseUntil && jobBefore?.leaseUntil) expect(job.leaseUntil.getTime()).toBe(jobBefore.leaseUntil.getTime());
  });

  test('a cancel-requested run: the start reports it and writes no step row and no event', async () => {
    const { run, jobId, user, lease } = await runningRun();
    await new RunsRepo(t.db).requestCancel(run.id, user.id);
    const seqBefore = await lastSeq(run);
    expect(await new StepsRepo(counted).start(lease, { runId: run.id, seq: 1, kind: 'planner' })).toBe('cancel_requested');
    expect(statements).toBe(1);
    expect(await new StepsRepo(t.db).list(run.id)).toEqual([]);
    expect(await lastSeq(run)).toBe(seqBefore);
    expect((await new JobQueue(t.db).get(jobId))!.lockedBy).toBe('worker-a');
  });

  test('a finish with extra writes: the fenced finish and the writes commit together, or neither does', async () => {
    const { run, user, lease } = await runningRun();
    const steps = new StepsRepo(t.db);
    const step = started(await steps.start(lease, { runId: run.id, seq: 1, kind: 'planner' }));
    const seqBefore = await lastSeq(run);
    await expect(
      t.db.transaction(async (tx) => {
        await new StepsRepo(tx).finish(lease, step.id, { output: { tasks: 1 }, commitSha: 'c1' });
        await new RunsRepo(tx).setPlan(run.id, { summary: 'plan' });
        throw new Error('the process dies before the commit');
      }),
    ).rejects.toThrow('dies');
    expect((await steps.list(run.id))[0]).toMatchObject({ status: 'running', output: null });
    expect(await lastSeq(run)).toBe(seqBefore);
    await t.db.transaction(async (tx) => {
      await new StepsRepo(tx).finish(lease, step.id, { output: { tasks: 1 }, commitSha: 'c1' });
      await new RunsRepo(tx).setPlan(run.id, { summary: 'plan' });
    });
    expect((await steps.list(run.id))[0]).toMatchObject({ status: 'succeeded', commitSha: 'c1' });
    expect((await new RunsRepo(t.db).getById(run.id))!.plan).toEqual({ summary: 'plan' });
    expect((await eventsOf(run, user.id)).at(-1)).toMatchObject({ seq: seqBefore + 1, type: 'step.finished' });
  });

  test('run transition as holder: the run row and its event in one statement; an illegal move writes nothing', async () => {
    const { run, user, lease } = await runningRun();
    const runs = new RunsRepo(counted);
    const { run: done, event } = await runs.transitionAsHolder(lease, run.id, 'succeeded', null, { type: 'run.finished', data: { status: 'succeeded', reason: null } });
    expect(statements).toBe(1);
    expect(done).toMatchObject({ id: run.id, status: 'succeeded' });
    expect(done.finishedAt).toBeInstanceOf(Date);
    expect(event).toMatchObject({ projectId: run.projectId, runId: run.id, type: 'run.finished', data: { status: 'succeeded' } });
    expect((await eventsOf(run, user.id)).at(-1)).toEqual(event);
    const seq = await lastSeq(run);
    await expect(runs.transitionAsHolder(lease, run.id, 'running', null, { type: 'run.resumed', data: { attempt: 2 } })).rejects.toMatchObject({ code: 'E_CONFLICT' });
    expect(await lastSeq(run)).toBe(seq);
  });

  test('12 concurrent fenced starts of one run get gapless seqs', async () => {
    const { run, user, lease } = await runningRun();
    const steps = new StepsRepo(t.db);
    await Promise.all(Array.from({ length: 12 }, (_, i) => steps.start(lease, { runId: run.id, seq: i + 1, kind: 'coder', taskId: `t${i}` })));
    const events = await eventsOf(run, user.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'step.started')).toHaveLength(12);
  });
});
