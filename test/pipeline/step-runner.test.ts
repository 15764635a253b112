import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunContext } from '../../agents/pipeline/run-context.js';
import { CancelRequested } from '../../agents/pipeline/run-stop.js';
import { StepRunner } from '../../agents/pipeline/step-runner.js';
import { createLogger } from '../../core/logger.js';
import type { Database } from '../../db/port.js';
import { RunsRepo, type Run } from '../../runs/runs-repo.js';
import { enqueueRun } from '../../runs/enqueue-run.js';
import { StepsRepo } from '../../db/repos/steps.js';
import { LocalWorkspaceStore } from '../../workspaces/index.js';
import { leaseJob, newProject } from '../db/fixtures.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

/**
 * The step runner's database cost and its cancel check, with a real database, lease and git
 * workspace. The context holds what the runner's boundaries use (db, run, lease, workspace,
 * signal, logger); the step bodies here make no model call and run no command.
 */
describe.each(DATABASE_KINDS)('step runner on %s', (kind) => {
  let t: TestDatabase;
  let root: string;
  let statements: number;
  /** t.db, counting statements as the pipeline benchmark does (BEGIN and COMMIT count 1 each). */
  let counted: Database;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    root = await mkdtemp(path.join(os.tmpdir(), 'sk-step-runner-'));
    counted = Object.assign(Object.create(t.db) as Database, {
      query: (sql: string, params?: readonly unknown[]) => (statements++, t.db.query(sql, params)),
      transaction: <T>(fn: Parameters<Database['transaction']>[0]) => {
        statements += 2;
        return t.db.transaction((tx) => fn({ ...tx, query: (sql, params) => (statements++, tx.query(sql, params)) })) as Promise<T>;
      },
    });
  });
  afterAll(async () => {
    await t.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  async function context(): Promise<RunContext> {
    const { user, projectId } = await newProject(t.db);
    const runs = new RunsRepo(t.db);
    const created = await enqueueRun(t.db, { projectId, userId: user.id, kind: 'generate', prompt: 'p', provider: 'anthropic', model: 'm', keyId: null, keySource: 'platform' });
    const lease = await leaseJob(t.db, created.job.id);
    const run: Run = (await runs.transitionAsHolder(lease, created.run.id, 'running', null, { type: 'run.started', data: { attempt: 1 } })).run;
    const workspace = await new LocalWorkspaceStore({ root, maxFileBytes: 1 << 20 }).create(projectId);
    const rc: Partial<RunContext> = { db: counted, run, lease, workspace, signal: new AbortController().signal, logger: createLogger({ level: 'silent' }) };
    return rc as RunContext;
  }

  test('a step costs 2 statements (start, finish); with extra writes, 5 (the finish is then a transaction)', async () => {
    const rc = await context();
    const runner = new StepRunner(rc, [], 1);
    statements = 0;
    await runner.run({ seq: 1, kind: 'coder', taskId: 't1' }, async () => {
      await rc.workspace.files.writeFile('a.txt', 'a');
      return { output: { files: 1 }, summary: 'a.txt' };
    });
    expect(statements).toBe(2);
    statements = 0;
    await runner.run({ seq: 2, kind: 'planner' }, async () => ({
      output: { tasks: 0 },
      summary: 'plan',
      persist: (tx) => new RunsRepo(tx).setPlan(rc.run.id, { summary: 'plan' }),
    }));
    expect(statements).toBe(5); // the start; BEGIN, the fenced finish, the plan, COMMIT
    expect(await new StepsRepo(t.db).list(rc.run.id)).toMatchObject([
      { seq: 1, status: 'succeeded', output: { files: 1 }, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/) },
      { seq: 2, status: 'succeeded', output: { tasks: 0 }, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/) },
    ]);
    expect((await new RunsRepo(t.db).getById(rc.run.id))!.plan).toEqual({ summary: 'plan' });
  });

  test("a cancel-requested run's next step start throws CancelRequested; the body does not run and no step row is written", async () => {
    const rc = await context();
    await new RunsRepo(t.db).requestCancel(rc.run.id, rc.run.userId);
    let ran = false;
    await expect(
      new StepRunner(rc, [], 1).run({ seq: 1, kind: 'planner' }, async () => {
        ran = true;
        return { output: null, summary: 'x' };
      }),
    ).rejects.toBeInstanceOf(CancelRequested);
    expect(ran).toBe(false);
    expect(await new StepsRepo(t.db).list(rc.run.id)).toEqual([]);
  });
});
