import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/port.js';
import { StepsRepo } from '../../db/repos/steps.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import {
  archTurn, finishTurn, newProjectFixture, PACKAGE_JSON, planTurn, projectEvents, script, startHarness, startRun, SUM_OK, SUM_TEST, TASKS,
  toolTurn, waitForRun, writeTurn, type Harness, type ProjectFixture,
} from './harness.js';

/** A plan of its own for one test (plans are data: an operator sets these limits the same way). */
async function testPlan(db: Queryable, limits: { maxRunSeconds?: number; monthlySandboxSeconds?: number }): Promise<string> {
  const id = `t-${randomUUID().slice(0, 8)}`;
  await db.query('INSERT INTO plans (id, name, max_run_seconds, monthly_sandbox_seconds) VALUES ($1, $2, $3, $4)', [
    id, `Test ${id}`, limits.maxRunSeconds ?? null, limits.monthlySandboxSeconds ?? null,
  ]);
  return id;
}

const runSandboxMs = async (db: Queryable, runId: string): Promise<number> =>
  Number((await db.query<{ sandbox_ms: string }>('SELECT sandbox_ms FROM runs WHERE id = $1', [runId])).rows[0]!.sandbox_ms);

/** A command that outlasts every bound below by far, unless the run's limits stop it. */
const LONG_SLEEP = 'sleep 600';

describe.each(DATABASE_KINDS)('run limits on %s (real sandbox, fake LLM)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    // The command timeout is above LONG_SLEEP, so only the limits under test can end it.
    h = await startHarness(kind, { SAMOKODER_COMMAND_TIMEOUT_MS: 900_000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  test('a run whose model keeps sleeping in the sandbox ends failed/time_budget at the plan\'s max_run_seconds, its finished steps kept', async () => {
    const db = h.server.ctx.db;
    // Long enough for planner and architect on a loaded machine; the sleeps start after them.
    const fx = await newProjectFixture(h, 'openai-compatible', await testPlan(db, { maxRunSeconds: 15 }));
    script(h, fx, [planTurn([TASKS[0]!]), archTurn('node --test', ''), ...Array.from({ length: 5 }, () => toolTurn('run_command', { command: LONG_SLEEP }))]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id, 300_000);
    expect(done).toMatchObject({ status: 'failed', reason: 'time_budget' });
    // Five sleeps of 600 s were the alternative: the run ended in a small fraction of one.
    expect(done.finishedAt!.getTime() - done.startedAt!.getTime()).toBeLessThan(120_000);

    const events = (await projectEvents(db, fx)).filter((e) => e.runId === run.id);
    expect(events.some((e) => e.type === 'command.started' && (e.data as { command: string }).command === LONG_SLEEP)).toBe(true);
    const finished = events.at(-1)!;
    expect(finished.type).toBe('run.finished');
    expect(finished.data).toMatchObject({ status: 'failed', reason: 'time_budget', message: expect.stringContaining("15 s (the Test t-") });
    expect((finished.data as { message: string }).message).toContain('max_run_seconds');

    // The finished steps stay, as commits of the workspace.
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.slice(0, 2).map((s) => [s.kind, s.status])).toEqual([['planner', 'succeeded'], ['architect', 'succeeded']]);
    // The step the budget interrupted is failed with the run's reason, not left running.
    const coder = steps.find((s) => s.kind === 'coder')!;
    expect(coder).toMatchObject({ status: 'failed', error: expect.stringContaining('max_run_seconds') });
    const history = await (await fx.workspace()).history.history();
    const shas = new Set(history.map((c) => c.sha));
    for (const s of steps.filter((x) => x.status === 'succeeded')) expect(shas.has(s.commitSha!)).toBe(true);
    // The aborted sleep's time was counted.
    expect(await runSandboxMs(db, run.id)).toBeGreaterThan(0);
  });

  test('sandbox seconds are recorded per run and per month, and /api/usage and /api/me show them', async () => {
    const db = h.server.ctx.db;
    const api = apiClient(h.server.url);
    const user = await registerUser(api);
    await db.query('UPDATE users SET plan_id = $2 WHERE id = $1', [user.userId, await testPlan(db, { monthlySandboxSeconds: 3600 })]);
    const apiKey = fakeSecret();
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: h.fake.baseUrls['openai-compatible'] } });
    expect(key.status).toBe(201);
    const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'Build a sum function with a test' } });
    const projectId: string = project.body.project.id;
    const before = await api('GET', '/api/usage', { token: user.token });
    expect(before.body).toMatchObject({ sandboxSeconds: 0, remainingSandboxSeconds: 3600, plan: { monthlySandboxSeconds: 3600, maxRunSeconds: null } });

    script(h, { apiKey } as ProjectFixture, [
      planTurn([TASKS[0]!]),
      archTurn('node --test', ''),
      toolTurn('run_command', { command: 'sleep 2' }),
      writeTurn('package.json', PACKAGE_JSON),
      writeTurn('sum.js', SUM_OK),
      writeTurn('sum.test.js', SUM_TEST),
      finishTurn(),
    ]);
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: key.body.id } });
    expect(gen.status).toBe(202);
    const done = await waitForRun(db, gen.body.run.id, 300_000);
    expect(done.status).toBe('succeeded');

    // sleep 2, then verify's test command: at least the 2 s of the sleep.
    const ms = await runSandboxMs(db, done.id);
    expect(ms).toBeGreaterThanOrEqual(2000);
    const usage = await api('GET', '/api/usage', { token: user.token });
    expect(usage.status).toBe(200);
    expect(usage.body.sandboxSeconds).toBe(ms / 1000);
    expect(usage.body.remainingSandboxSeconds).toBe(3600 - ms / 1000);
    const me = await api('GET', '/api/me', { token: user.token });
    expect(me.body.usage.sandboxSeconds).toBe(ms / 1000);
    expect(me.body.plan).toMatchObject({ monthlySandboxSeconds: 3600, maxRunSeconds: null });
  });

  test('a run that would pass the monthly sandbox seconds stops limit_exceeded; the next run stops at its first command', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible', await testPlan(db, { monthlySandboxSeconds: 3 }));
    script(h, fx, [planTurn([TASKS[0]!]), archTurn('node --test', ''), toolTurn('run_command', { command: LONG_SLEEP }), finishTurn()]);
    const first = await waitForRun(db, (await startRun(h, fx)).id, 300_000);
    expect(first).toMatchObject({ status: 'failed', reason: 'limit_exceeded' });
    // The sleep was cut where the month's 3 s ran out, not after its 600 s.
    expect(first.finishedAt!.getTime() - first.startedAt!.getTime()).toBeLessThan(120_000);
    const ms = await runSandboxMs(db, first.id);
    expect(ms).toBeGreaterThanOrEqual(3000);
    const message = (await projectEvents(db, fx)).filter((e) => e.runId === first.id).at(-1)!.data as { reason: string; message: string };
    expect(message.message).toMatch(/^limit_exceeded: the Test t-\S+ plan allows 3 s of sandbox commands a month \(monthly_sandbox_seconds\)/);

    // The month is spent: the next run's first command is refused before it runs.
    script(h, fx, [planTurn([TASKS[0]!]), archTurn('node --test', ''), toolTurn('run_command', { command: 'echo hi' }), finishTurn()]);
    const second = await waitForRun(db, (await startRun(h, fx, 'again', 'change')).id, 300_000);
    expect(second).toMatchObject({ status: 'failed', reason: 'limit_exceeded' });
    expect(await runSandboxMs(db, second.id)).toBe(0);
    const events = (await projectEvents(db, fx)).filter((e) => e.runId === second.id);
    expect(events.some((e) => e.type === 'command.finished')).toBe(false);
  });
});
