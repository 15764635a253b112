import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PgDatabase } from '../../db/pg-database.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { newMasterKeyText } from '../keys/fixtures.js';
import { killProcessesAndContainers, processEnv, projectContainers, queueCommandRun, waitForEvent, waitForRun } from '../pipeline/harness.js';

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
    await killProcessesAndContainers(procs, projectId);
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
    const env = { ...processEnv(pg.url, masterKey, fake), SAMOKODER_WORKSPACES_DIR: workspaces };
    const a = await startServiceProcess({ ...env, SAMOKODER_DATA_DIR: await tmp('sk-orphan-a-') });
    procs.push(a);
    db = new PgDatabase({ connectionString: pg.url, poolSize: 4 });
    // Node A dies during the command, which would write late.txt well after node B resumed.
    const { userId, run, ...ids } = await queueCommandRun(db, fake, masterKey, { email: 'orphan@example.com', name: 'Orphan', command: 'sleep 9; echo late > late.txt' });
    projectId = ids.projectId;
    await waitForEvent(db, projectId, userId, 'command.started');
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
    expect(await projectContainers(projectId)).toEqual([]);
  }, 120_000);
});
