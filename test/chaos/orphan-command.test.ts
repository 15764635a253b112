import { existsSync } from 'node:fs';
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
import { UsersRepo } from '../../db/repos/users.js';
import { LABEL_PROJECT } from '../../sandbox/labels.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { fakeSecret, newMasterKeyText } from '../keys/fixtures.js';
import { archTurn, finishTurn, PACKAGE_JSON, planTurn, SUM_OK, SUM_TEST, toolTurn, waitForRun, writeTurn } from '../pipeline/harness.js';

/**
 * A node dies in the middle of a sandbox command and stays dead; a node that was already running
 * resumes the run. The dead node's container (with the command still running in it) is on the
 * same engine, and its process is not there to stop it: the resuming node must remove it before
 * it resets the shared workspace, or the command keeps writing into the project afterwards.
 */
describe('a dead node’s sandbox command cannot write into a resumed run’s workspace', () => {
  let fake: FakeLlm;
  let pg: { url: string; drop: () => Promise<void> };
  let db: PgDatabase | undefined;
  const dirs: string[] = [];
  const procs: ServiceProcess[] = [];
  let projectId = '';

  beforeAll(async () => {
    ensureBuilt();
    fake = await startFakeLlm();
    pg = await createEmptyPgDatabase();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const docker = new Docker({ version: 'v1.41' });
    if (projectId) for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${projectId}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await db?.close().catch(() => undefined);
    await pg?.drop();
    await fake?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  test('the resuming node removes the earlier holder’s container; the late write never lands', async () => {
    const tmp = async (prefix: string) => {
      const d = await mkdtemp(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    };
    const masterKey = newMasterKeyText();
    const workspaces = await tmp('sk-orphan-ws-');
    const env = {
      DATABASE_URL: pg.url,
      SAMOKODER_MASTER_KEY: masterKey,
      SAMOKODER_WORKSPACES_DIR: workspaces,
      SAMOKODER_RUN_LEASE_MS: '3000',
      SAMOKODER_LLM_MAX_RETRIES: '0',
      SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
      SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
    };
    const a = await startServiceProcess({ ...env, SAMOKODER_DATA_DIR: await tmp('sk-orphan-a-') });
    procs.push(a);
    db = new PgDatabase({ connectionString: pg.url, poolSize: 4 });
    const user = await new UsersRepo(db).create({ email: 'orphan@example.com', passwordHash: null, planId: 'unlimited' });
    projectId = (await new ProjectsRepo(db).create({ userId: user.id, name: 'Orphan', prompt: 'sum' })).id;
    const apiKey = fakeSecret();
    const key = await storeUserKey(db, createVault(parseMasterKey(masterKey, 'SAMOKODER_MASTER_KEY'), []), { userId: user.id, provider: 'openai', apiKey });
    fake.setScript({
      turns: [
        planTurn([{ id: 't1', title: 'Sum and its test', description: 'Write package.json, sum.js and sum.test.js' }]),
        archTurn('node --test', ''),
        // Node A dies during this; the command would write late.txt well after node B resumed.
        toolTurn('run_command', { command: 'sleep 9; echo late > late.txt' }),
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
    const commandStarted = Date.now();
    // B is up before A dies, so B's start-up sweep (A still alive) leaves A's container alone.
    const b = await startServiceProcess({ ...env, SAMOKODER_DATA_DIR: await tmp('sk-orphan-b-') });
    procs.push(b);
    a.child.kill('SIGKILL');
    await a.exited;

    expect(await waitForRun(db, run.id, 60_000)).toMatchObject({ status: 'succeeded' });
    // Past the moment the dead node's command would have written its file.
    await new Promise((r) => setTimeout(r, Math.max(0, commandStarted + 11_000 - Date.now())));
    expect(existsSync(path.join(workspaces, projectId, 'late.txt'))).toBe(false);
    expect(b.lines.some((l) => l.msg === 'sandbox: removed containers of an earlier holder of the project')).toBe(true);

    b.child.kill('SIGTERM');
    expect(await b.exited).toMatchObject({ code: 0 });
    const docker = new Docker({ version: 'v1.41' });
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${projectId}`] } })).toEqual([]);
  }, 120_000);
});
