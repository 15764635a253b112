import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PgDatabase } from '../../db/pg-database.js';
import { EventsRepo } from '../../events/event-log.js';
import { StepsRepo } from '../../db/repos/steps.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { newMasterKeyText } from '../keys/fixtures.js';
import { catalogueViolations, killProcessesAndContainers, processEnv, queueCommandRun, toolNames, waitForEvent, waitForRun } from './harness.js';

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
    // The killed process could not remove its container: this does.
    await killProcessesAndContainers(procs, projectId);
    await db?.close().catch(() => undefined);
    await pg?.drop();
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('after restart the run finishes; planner and architect are not called again; no event is duplicated; the ledger equals the provider usage', async () => {
    const masterKey = newMasterKeyText();
    const env = { ...processEnv(pg.url, masterKey, fake), SAMOKODER_DATA_DIR: dataDir };
    const a = await startServiceProcess(env);
    procs.push(a);
    db = new PgDatabase({ connectionString: pg.url, poolSize: 4 });
    // The process is killed during the coder's command.
    const { userId, run, ...ids } = await queueCommandRun(db, fake, masterKey, { email: 'crash@example.com', name: 'Crash', command: 'sleep 25' });
    projectId = ids.projectId;
    await waitForEvent(db, projectId, userId, 'command.started');
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
    const all = (await new EventsRepo(db).listSince(projectId, userId, 0)).filter((e) => e.runId === run.id);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    // Every event, run.resumed included, matches the event catalogue.
    expect(await catalogueViolations(db)).toEqual({ events: all.length, violations: [] });
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
