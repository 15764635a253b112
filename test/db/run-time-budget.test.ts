import { randomUUID } from 'node:crypto';
import { TimeBudgetExceeded } from '../../agents/pipeline/run-stop.js';
import { armTimeBudget } from '../../runs/run-time-budget.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { newProject, waitFor } from './fixtures.js';

/** The budget is counted from the run's first start, so earlier attempts' time counts on a resume. */
describe.each(DATABASE_KINDS)('a run\'s wall-clock budget on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  /** A running run of a user on a plan with `maxRunSeconds`, first started `startedSecondsAgo` ago. */
  async function runningRun(maxRunSeconds: number | null, startedSecondsAgo: number): Promise<string> {
    const planId = `t-${randomUUID().slice(0, 8)}`;
    await t.db.query('INSERT INTO plans (id, name, max_run_seconds) VALUES ($1, $2, $3)', [planId, `Plan ${planId}`, maxRunSeconds]);
    const { user, projectId } = await newProject(t.db, planId);
    const res = await t.db.query<{ id: string }>(
      `INSERT INTO runs (project_id, user_id, kind, prompt, provider, model, key_source, status, started_at)
       VALUES ($1, $2, 'generate', 'x', 'openai', 'm', 'byok', 'running', now() - $3 * interval '1 second') RETURNING id`,
      [projectId, user.id, startedSecondsAgo],
    );
    return res.rows[0]!.id;
  }

  test('a resumed run whose budget earlier attempts already spent is stopped at once, naming the limit', async () => {
    const runId = await runningRun(5, 60);
    let reason: TimeBudgetExceeded | undefined;
    const disarm = await armTimeBudget(t.db, runId, (r) => (reason = r));
    disarm();
    expect(reason).toBeInstanceOf(TimeBudgetExceeded);
    expect(reason).toMatchObject({ reason: 'time_budget', code: 'E_RUN_STOPPED' });
    expect(reason!.message).toContain("5 s (the Plan t-");
    expect(reason!.message).toContain('max_run_seconds');
  });

  test('what is left of the budget fires later, not at once', async () => {
    // 7 s of a 10 s budget are spent: about 3 s are left.
    const runId = await runningRun(10, 7);
    let fired = false;
    const disarm = await armTimeBudget(t.db, runId, () => (fired = true));
    expect(fired).toBe(false);
    await waitFor('the budget to be spent', () => fired, 60_000);
    disarm();
  });

  test('a plan without max_run_seconds arms nothing', async () => {
    const runId = await runningRun(null, 10 * 365 * 24 * 3600);
    let fired = false;
    (await armTimeBudget(t.db, runId, () => (fired = true)))();
    expect(fired).toBe(false);
  });
});
