import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { storeUserKey } from '../../agents/keys/user-keys.js';
import { createVault } from '../../agents/keys/vault.js';
import { parseMasterKey } from '../../core/master-key.js';
import { PgDatabase } from '../../db/pg-database.js';
import { EventsRepo } from '../../db/repos/events.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { RunsRepo } from '../../db/repos/runs.js';
import { StepsRepo } from '../../db/repos/steps.js';
import { UsersRepo } from '../../db/repos/users.js';
import { LABEL_PROJECT } from '../../sandbox/labels.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { fakeSecret, newMasterKeyText } from '../keys/fixtures.js';
import { archTurn, finishTurn, PACKAGE_JSON, planTurn, SUM_OK, SUM_TEST, toolNames, toolTurn, waitForRun, writeTurn } from './harness.js';

// Two processes share the database, so this runs on PostgreSQL only (PGlite is in-process).
describe('a run survives SIGKILL of its worker process (PostgreSQL, real processes)', () => {
  let fake: FakeLlm;
  let pg: { url: string; drop: () => Promise<void> };
  let db: PgDatabase;
  let dataDir: string;
  const procs: ServiceProcess[] = [];
  let projectId = '';

  beforeAll(async () => {
    ensureBuilt();
    fake = await startFakeLlm();
    pg = await createEmptyPgDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sk-crash-'));
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    // The killed process could not remove its container: do it here.
    const docker = new Docker({ version: 'v1.41' });
    if (projectId) for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${projectId}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await db?.close().catch(() => undefined);
    await pg?.drop();
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('after restart the run finishes; planner and architect are not called again; no event is duplicated; the ledger equals the provider usage', async () => {
    const masterKey = newMasterKeyText();
    const env = {
      DATABASE_URL: pg.url,
      SAMOKODER_DATA_DIR: dataDir,
      SAMOKODER_MASTER_KEY: masterKey,
      SAMOKODER_RUN_LEASE_MS: '3000',
      SAMOKODER_LLM_MAX_RETRIES: '0',
      SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
      SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
      LOG_LEVEL: 'info',
    };
    const a = await startServiceProcess(env);
    procs.push(a);
    db = new PgDatabase({ connectionString: pg.url, poolSize: 4 });
    const user = await new UsersRepo(db).create({ email: 'crash@example.com', passwordHash: null, planId: 'unlimited' });
    projectId = (await new ProjectsRepo(db).create({ userId: user.id, name: 'Crash', prompt: 'sum' })).id;
    const apiKey = fakeSecret();
    const key = await storeUserKey(db, createVault(parseMasterKey(masterKey, 'SAMOKODER_MASTER_KEY'), []), { userId: user.id, provider: 'openai', apiKey });
    fake.setScript({
      turns: [
        planTurn([{ id: 't1', title: 'Sum and its test', description: 'Write package.json, sum.js and sum.test.js' }]),
        archTurn('node --test', ''),
        toolTurn('run_command', { command: 'sleep 25' }), // the process is killed during this command
        writeTurn('package.json', PACKAGE_JSON),
        writeTurn('sum.js', SUM_OK),
        writeTurn('sum.test.js', SUM_TEST),
        finishTurn(),
      ],
    });
    const { run } = await new RunsRepo(db).create({ projectId, userId: user.id, kind: 'generate', prompt: 'sum', provider: 'openai', model: 'gpt-4o-mini', keyId: key.id, keySource: 'byok' });

    const events = new EventsRepo(db);
    const end = Date.now() + 30_000;
    while (!(await events.listSince(projectId, user.id, 0)).some((e) => e.type === 'command.started')) {
      if (Date.now() > end) throw new Error('the coder never started its command');
      await new Promise((r) => setTimeout(r, 25));
    }
    a.child.kill('SIGKILL');
    await a.exited;

    const b = await startServiceProcess(env);
    procs.push(b);
    const done = await waitForRun(db, run.id, 60_000);
    expect(done).toMatchObject({ status: 'succeeded' });

    // Planner and architect ran once: the fake server saw one request offering each of their tools.
    expect(fake.requests.filter((r) => toolNames(r).includes('submit_plan'))).toHaveLength(1);
    expect(fake.requests.filter((r) => toolNames(r).includes('submit_architecture'))).toHaveLength(1);
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.map((s) => `${s.kind}:${s.status}`)).toEqual(['planner:succeeded', 'architect:succeeded', 'coder:succeeded', 'verify:succeeded']);

    // Events: gapless, each finished step once, one start and one resume.
    const all = (await events.listSince(projectId, user.id, 0)).filter((e) => e.runId === run.id);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const finishedSeqs = all.filter((e) => e.type === 'step.finished').map((e) => (e.data as { seq: number }).seq);
    expect(finishedSeqs).toEqual([1, 2, 3, 4]);
    expect(all.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'run.resumed')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'run.finished')).toHaveLength(1);
    const started = all.filter((e) => e.type === 'step.started').map((e) => JSON.stringify(e.data));
    expect(new Set(started).size).toBe(started.length);
    expect(all.filter((e) => e.type === 'step.started').map((e) => (e.data as { seq: number }).seq)).toEqual([1, 2, 3, 3, 4]);

    // The ledger holds exactly what the provider reported for the answered calls (100 in / 20 out each).
    const answered = fake.requests.filter((r) => r.status === 200 && !r.clientClosed).length;
    expect(answered).toBe(7);
    const ledger = await db.query<{ n: number; i: string; o: string; reserved: number }>(
      "SELECT count(*)::int AS n, sum(input_tokens)::text AS i, sum(output_tokens)::text AS o, count(*) FILTER (WHERE status = 'reserved')::int AS reserved FROM usage_ledger WHERE run_id = $1",
      [run.id],
    );
    expect(ledger.rows[0]).toEqual({ n: answered, i: String(answered * 100), o: String(answered * 20), reserved: 0 });
    expect(done.inputTokens).toBe(answered * 100);
    expect(done.outputTokens).toBe(answered * 20);

    b.child.kill('SIGTERM');
    expect(await b.exited).toMatchObject({ code: 0 });
  });
});
