import type { AppError } from '../../core/errors.js';
import { JobQueue } from '../../db/queue/job-queue.js';
import { EventsRepo } from '../../events/event-log.js';
import { ProjectsRepo, slugify } from '../../db/repos/projects.js';
import { RUNS_QUEUE, runJobKey, RunsRepo } from '../../runs/runs-repo.js';
import { enqueueRun, type EnqueueRunInput } from '../../runs/enqueue-run.js';
import { listenForCancel } from '../../runs/cancel-channel.js';
import { StepsRepo, type Step } from '../../db/repos/steps.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { leaseJob, newProject, newUser, sleep, waitFor } from './fixtures.js';

const runInput = (projectId: string, userId: string): EnqueueRunInput => ({
  projectId,
  userId,
  kind: 'generate',
  prompt: 'a todo app',
  provider: 'anthropic',
  model: 'claude-x',
  keyId: null,
  keySource: 'platform',
});

const settledCodes = (results: PromiseSettledResult<unknown>[]) => ({
  ok: results.filter((r) => r.status === 'fulfilled').length,
  codes: [...new Set(results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as AppError).code] : [])))],
});

describe.each(DATABASE_KINDS)('projects, runs and steps on %s', (kind) => {
  let t: TestDatabase;
  let projects: ProjectsRepo;
  let runs: RunsRepo;
  let steps: StepsRepo;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    projects = new ProjectsRepo(t.db);
    runs = new RunsRepo(t.db);
    steps = new StepsRepo(t.db);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test('10 concurrent creates against max_projects = 2: exactly 2 succeed, the rest get E_LIMIT', async () => {
    const user = await newUser(t.db, 'free');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => projects.create({ userId: user.id, name: `App ${i}`, prompt: 'p' })),
    );
    expect(settledCodes(results)).toEqual({ ok: 2, codes: ['E_LIMIT'] });
    expect(await projects.count(user.id)).toBe(2);
    const err = results.find((r) => r.status === 'rejected')!.reason as AppError;
    expect(err.message).toMatch(/Free plan allows 2 projects/);
    expect(err.details).toMatchObject({ limit: 'max_projects', plan: 'free', max: 2, current: 2 });
  });

  test('projects: get and list are scoped by user, newest first, with cursor pagination', async () => {
    const owner = await newUser(t.db);
    const stranger = await newUser(t.db);
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await projects.create({ userId: owner.id, name: `Ünïcode App #${i}!`, prompt: 'p' }));
    expect(created[0]!.slug).toBe('unicode-app-0');
    expect(await projects.get(created[0]!.id, owner.id)).toMatchObject({ id: created[0]!.id, lastEventSeq: 0, webhookUrl: null });
    expect(await projects.get(created[0]!.id, stranger.id)).toBeUndefined();
    const page1 = await projects.list(owner.id, { limit: 2 });
    const page2 = await projects.list(owner.id, { limit: 2, cursor: page1.nextCursor! });
    const page3 = await projects.list(owner.id, { limit: 2, cursor: page2.nextCursor! });
    expect([...page1.items, ...page2.items, ...page3.items].map((p) => p.id)).toEqual(created.map((p) => p.id).reverse());
    expect(page3.nextCursor).toBeNull();
    expect((await projects.list(stranger.id)).items).toEqual([]);
    await expect(projects.list(owner.id, { cursor: 'garbage' })).rejects.toMatchObject({ code: 'E_VALIDATION' });
  });

  test('slugify makes file-name-safe slugs', () => {
    expect(slugify('  My  App / v2 ')).toBe('my-app-v2');
    expect(slugify('../../etc')).toBe('etc');
    expect(slugify('日本語')).toBe('project');
  });

  test('webhook: set generates a secret once, clear removes it, scoped by user', async () => {
    const { user, projectId } = await newProject(t.db);
    const stranger = await newUser(t.db);
    expect(await projects.setWebhook(projectId, stranger.id, { url: 'https://evil.example' })).toBeUndefined();
    const first = await projects.setWebhook(projectId, user.id, { url: 'https://hooks.example/a' });
    expect(first?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first?.project.webhookUrl).toBe('https://hooks.example/a');
    const second = await projects.setWebhook(projectId, user.id, { url: 'https://hooks.example/b' });
    expect(second?.secret).toBe(first?.secret);
    expect(await projects.getWebhookTarget(projectId)).toEqual({ url: 'https://hooks.example/b', secret: first?.secret });
    expect(JSON.stringify(await projects.get(projectId, user.id))).not.toContain(first!.secret!);
    await projects.setWebhook(projectId, user.id, { url: null });
    expect(await projects.getWebhookTarget(projectId)).toBeUndefined();
  });

  test('create run: the run, its job and run.queued are written together', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run, job, event } = await enqueueRun(t.db, runInput(projectId, user.id));
    expect(run).toMatchObject({ status: 'queued', kind: 'generate', keySource: 'platform', inputTokens: 0, startedAt: null });
    expect(job).toMatchObject({ queue: RUNS_QUEUE, singletonKey: runJobKey(run.id), payload: { runId: run.id, projectId, userId: user.id } });
    expect(event).toMatchObject({ seq: 1, type: 'run.queued', runId: run.id });
    expect(await runs.get(run.id, user.id)).toMatchObject({ id: run.id });
    expect(await runs.get(run.id, (await newUser(t.db)).id)).toBeUndefined();
  });

  test("create run refuses another user's project or key", async () => {
    const { projectId } = await newProject(t.db);
    const other = await newUser(t.db);
    await expect(enqueueRun(t.db, runInput(projectId, other.id))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    const mine = await newProject(t.db);
    await expect(
      enqueueRun(t.db, { ...runInput(mine.projectId, mine.user.id), keyId: '00000000-0000-0000-0000-000000000000', keySource: 'byok' }),
    ).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(await runs.countActive(mine.user.id)).toBe(0);
  });

  test('the concurrent-run limit holds under concurrency, and finished runs free a slot', async () => {
    const user = await newUser(t.db, 'starter'); // 2 concurrent runs, 5 projects
    const projectIds = [];
    for (let i = 0; i < 5; i++) projectIds.push((await projects.create({ userId: user.id, name: `App ${i}`, prompt: 'p' })).id);
    const results = await Promise.allSettled(projectIds.map((id) => enqueueRun(t.db, runInput(id, user.id))));
    expect(settledCodes(results)).toEqual({ ok: 2, codes: ['E_LIMIT'] });
    const err = results.find((r) => r.status === 'rejected')!.reason as AppError;
    expect(err.message).toMatch(/Starter plan allows 2 concurrent runs/);
    const jobs = await t.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM jobs j JOIN runs r ON j.singleton_key = 'run:' || r.id WHERE r.user_id = $1`, [user.id]);
    expect(Number(jobs.rows[0]!.n)).toBe(2); // the refused ones enqueued nothing
    const first = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof enqueueRun>>>;
    await runs.transition(first.value.run.id, 'running');
    await runs.transition(first.value.run.id, 'succeeded');
    const idle = projectIds.find((_, i) => results[i]!.status === 'rejected')!;
    await expect(enqueueRun(t.db, runInput(idle, user.id))).resolves.toBeDefined();
  });

  test('one active run per project: 8 concurrent starts on one project, exactly one queued, the rest E_CONFLICT naming it', async () => {
    const { user, projectId } = await newProject(t.db);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => enqueueRun(t.db, runInput(projectId, user.id))));
    expect(settledCodes(results)).toEqual({ ok: 1, codes: ['E_CONFLICT'] });
    const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof enqueueRun>>>).value.run;
    const err = results.find((r) => r.status === 'rejected')!.reason as AppError;
    expect(err.message).toContain(winner.id);
    expect(err.details).toEqual({ activeRunId: winner.id });
    // The index holds the rule for a writer that skips the check, too.
    await expect(runs.insert({ ...runInput(projectId, user.id), kind: 'change' })).rejects.toMatchObject({ code: '23505' });
    // Once it has finished, the next run (a change request) may start.
    await runs.transition(winner.id, 'cancelled', 'cancelled');
    await expect(enqueueRun(t.db, { ...runInput(projectId, user.id), kind: 'change' })).resolves.toBeDefined();
  });

  test('status transitions: legal ones set timestamps, illegal ones are refused with E_CONFLICT', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run } = await enqueueRun(t.db, runInput(projectId, user.id));
    await expect(runs.transition(run.id, 'succeeded')).rejects.toMatchObject({ code: 'E_CONFLICT' });
    const running = await runs.transition(run.id, 'running');
    expect(running.startedAt).toBeInstanceOf(Date);
    const resumed = await runs.transition(run.id, 'running'); // a new worker resuming it
    expect(resumed.startedAt).toEqual(running.startedAt);
    await expect(runs.transition(run.id, 'queued')).rejects.toMatchObject({ code: 'E_CONFLICT' });
    const failed = await runs.transition(run.id, 'failed', 'verify_failed');
    expect(failed).toMatchObject({ status: 'failed', reason: 'verify_failed' });
    expect(failed.finishedAt).toBeInstanceOf(Date);
    for (const to of ['running', 'succeeded', 'cancelled', 'queued'] as const) {
      await expect(runs.transition(run.id, to)).rejects.toMatchObject({ code: 'E_CONFLICT' });
    }
    await expect(runs.transition('00000000-0000-0000-0000-000000000000', 'running')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  test('two workers racing to finish a run: exactly one transition wins', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run } = await enqueueRun(t.db, runInput(projectId, user.id));
    await runs.transition(run.id, 'running');
    const results = await Promise.allSettled([runs.transition(run.id, 'succeeded'), runs.transition(run.id, 'cancelled', 'cancelled')]);
    expect(settledCodes(results)).toEqual({ ok: 1, codes: ['E_CONFLICT'] });
  });

  test('cancel of a queued run ends it at once: run cancelled, job cancelled, run.finished appended', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run, job } = await enqueueRun(t.db, runInput(projectId, user.id));
    expect(await runs.requestCancel(run.id, (await newUser(t.db)).id)).toBeUndefined();
    const cancelled = await runs.requestCancel(run.id, user.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(await new JobQueue(t.db).get(job.id)).toMatchObject({ status: 'failed', lastError: 'run cancelled' });
    const evs = await new EventsRepo(t.db).listSince(projectId, user.id, 0, 10);
    expect(evs.map((e) => e.type)).toEqual(['run.queued', 'run.finished']);
    expect(evs[1]!.data).toEqual({ status: 'cancelled', reason: 'cancelled' });
  });

  test('cancel of a running run sets cancel_requested_at and notifies the worker', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run } = await enqueueRun(t.db, runInput(projectId, user.id));
    await runs.transition(run.id, 'running');
    const heard: string[] = [];
    // A poll far slower than the test: what is heard in time came by the notice.
    const listener = await listenForCancel(t.db, () => [], (id) => heard.push(id), 60_000);
    try {
      expect((await runs.getById(run.id))?.cancelRequestedAt).toBeNull();
      const r = await runs.requestCancel(run.id, user.id);
      expect(r?.status).toBe('running');
      expect(r?.cancelRequestedAt).toBeInstanceOf(Date);
      expect((await runs.getById(run.id))?.cancelRequestedAt).toBeInstanceOf(Date);
      await waitFor('the cancel notice', () => heard.includes(run.id), 3000);
    } finally {
      await listener.stop();
    }
  });

  test('a missed cancel notice is caught by the poll of the watched runs', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run } = await enqueueRun(t.db, runInput(projectId, user.id));
    await runs.transition(run.id, 'running');
    // The flag set without a notice, as when the NOTIFY is lost: only the poll can see it.
    await t.db.query('UPDATE runs SET cancel_requested_at = now() WHERE id = $1', [run.id]);
    const heard: string[] = [];
    const listener = await listenForCancel(t.db, () => [run.id], (id) => heard.push(id), 50);
    try {
      await waitFor('the poll', () => heard.includes(run.id), 5000);
    } finally {
      await listener.stop();
    }
  });

  test('plan and architecture are stored on the run (token totals start at zero); runs list newest first', async () => {
    const { user, projectId } = await newProject(t.db);
    const a = (await enqueueRun(t.db, runInput(projectId, user.id))).run;
    await runs.transition(a.id, 'cancelled', 'cancelled');
    await sleep(2);
    const b = (await enqueueRun(t.db, { ...runInput(projectId, user.id), kind: 'change' })).run;
    await runs.setPlan(a.id, { summary: 's', tasks: [{ id: 't1', title: 'x', description: 'y' }] });
    await runs.setArchitecture(a.id, { stack: 'node', files: [], commands: { install: 'npm i', test: 'npm test', start: 'node .' } });
    const got = (await runs.getById(a.id))!;
    expect(got).toMatchObject({ inputTokens: 0, outputTokens: 0, costMicroUsd: 0, plan: { summary: 's' }, architecture: { stack: 'node' } });
    const page = await runs.listByProject(projectId, user.id, { limit: 1 });
    expect(page.items.map((r) => r.id)).toEqual([b.id]);
    expect((await runs.listByProject(projectId, user.id, { cursor: page.nextCursor! })).items.map((r) => r.id)).toEqual([a.id]);
    expect((await runs.listByProject(projectId, (await newUser(t.db)).id)).items).toEqual([]);
  });

  test('delete project: returns its active runs, cancels their jobs, removes runs and events', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run, job } = await enqueueRun(t.db, runInput(projectId, user.id));
    const stranger = await newUser(t.db);
    expect(await projects.delete(projectId, stranger.id)).toBeUndefined();
    const deleted = await projects.delete(projectId, user.id);
    expect(deleted?.project.id).toBe(projectId);
    expect(deleted?.activeRunIds).toEqual([run.id]);
    expect(await projects.get(projectId, user.id)).toBeUndefined();
    expect(await runs.getById(run.id)).toBeUndefined();
    expect(await new JobQueue(t.db).get(job.id)).toMatchObject({ status: 'failed', lastError: 'project deleted' });
    expect(await projects.delete(projectId, user.id)).toBeUndefined();
  });

  test('a project deleted while a run is being created leaves no orphan job', async () => {
    for (let i = 0; i < 5; i++) {
      const { user, projectId } = await newProject(t.db);
      await Promise.allSettled([enqueueRun(t.db, runInput(projectId, user.id)), projects.delete(projectId, user.id)]);
    }
    const orphans = await t.db.query(
      `SELECT j.id FROM jobs j WHERE j.queue = $1 AND j.status IN ('queued', 'active')
         AND NOT EXISTS (SELECT 1 FROM runs r WHERE j.singleton_key = 'run:' || r.id)`,
      [RUNS_QUEUE],
    );
    expect(orphans.rows).toEqual([]);
  });

  test('steps: finished steps are the resume point and are never redone; an unfinished one restarts', async () => {
    const { user, projectId } = await newProject(t.db);
    const { run, job } = await enqueueRun(t.db, runInput(projectId, user.id));
    const lease = await leaseJob(t.db, job.id);
    const start = async (input: Parameters<StepsRepo['start']>[1]): Promise<Step> => {
      const s = await steps.start(lease, input);
      if (s === 'cancel_requested') throw new Error('unexpected cancel');
      return s;
    };
    expect(await steps.lastFinishedStep(run.id)).toBeUndefined();
    const planner = await start({ runId: run.id, seq: 1, kind: 'planner' });
    expect(planner).toMatchObject({ status: 'running', seq: 1, round: 0, taskId: null });
    await steps.finish(lease, planner.id, { output: { tasks: 3 }, commitSha: 'aaa111' });
    const architect = await start({ runId: run.id, seq: 2, kind: 'architect' });
    // The process dies here; the resumed run starts seq 2 again: the same row, reset.
    const again = await start({ runId: run.id, seq: 2, kind: 'architect' });
    expect(again.id).toBe(architect.id);
    await steps.finish(lease, again.id, { output: { stack: 'node' }, commitSha: 'bbb222' });
    await expect(steps.start(lease, { runId: run.id, seq: 1, kind: 'planner' })).rejects.toMatchObject({ code: 'E_CONFLICT' });
    await expect(steps.finish(lease, again.id, { output: {} })).rejects.toMatchObject({ code: 'E_CONFLICT', message: 'step is already succeeded' });
    const coder = await start({ runId: run.id, seq: 3, kind: 'coder', taskId: 't1' });
    await steps.fail(lease, coder.id, 'too many invalid tool calls');
    expect((await steps.lastFinishedStep(run.id))).toMatchObject({ seq: 2, commitSha: 'bbb222', output: { stack: 'node' } });
    expect((await steps.finishedSteps(run.id)).map((s) => [s.seq, s.kind, s.commitSha])).toEqual([[1, 'planner', 'aaa111'], [2, 'architect', 'bbb222']]);
    expect((await steps.list(run.id)).map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'failed']);
    const retried = await start({ runId: run.id, seq: 3, kind: 'coder', taskId: 't1', round: 1 });
    expect(retried).toMatchObject({ id: coder.id, status: 'running', error: null, round: 1 });
    await expect(steps.fail(lease, '00000000-0000-0000-0000-000000000000', 'x')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await expect(steps.start(lease, { runId: '00000000-0000-0000-0000-000000000000', seq: 1, kind: 'planner' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
