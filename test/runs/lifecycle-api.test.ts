import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { sweepOrphanWorkspaces } from '../../runs/orphan-workspaces.js';
import { ProjectTombstones } from '../../runs/project-tombstones.js';
import { RunsRepo } from '../../runs/runs-repo.js';
import { createDockerSandbox } from '../../sandbox/docker-sandbox.js';
import { sandboxSettingsFromConfig } from '../../sandbox/settings.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { NO_WORKER, seedTenant, type Api } from '../api/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const IMAGE = process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest';

/** The project's containers, running or not, as the docker CLI lists them. */
async function dockerPs(projectId: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '-q', '--filter', `label=samokoder.project=${projectId}`]);
  return stdout.split('\n').filter(Boolean);
}

describe('run lifecycle over HTTP (postgres): one active run per project', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startTestServer('postgres', { ...NO_WORKER });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server?.close();
  });

  test('six generates racing on one project: exactly one 202, the others 409 E_CONFLICT naming it', async () => {
    const t = await seedTenant(server, api);
    await api('POST', `/api/projects/${t.projectId}/runs/${t.runId}/cancel`, { token: t.token });
    const body = { prompt: 'add dark mode', provider: 'openai', model: 'gpt-4o-mini', keyId: t.keyId };
    const results = await Promise.all(Array.from({ length: 6 }, () => api('POST', `/api/projects/${t.projectId}/generate`, { token: t.token, body })));
    const accepted = results.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(1);
    const winner: string = accepted[0]!.body.run.id;
    for (const r of results.filter((x) => x.status !== 202)) {
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'E_CONFLICT', details: { activeRunId: winner } });
      expect(r.body.error.message).toContain(winner);
    }
    const active = await server.ctx.db.query("SELECT id FROM runs WHERE project_id = $1 AND status IN ('queued', 'running')", [t.projectId]);
    expect(active.rows).toEqual([{ id: winner }]);
  });

  test('after the active run finished, the next generate is accepted as a change request', async () => {
    const t = await seedTenant(server, api);
    const blocked = await api('POST', `/api/projects/${t.projectId}/generate`, { token: t.token, body: { prompt: 'add a footer', provider: 'openai', model: 'm' } });
    expect(blocked.status).toBe(409);
    const runs = new RunsRepo(server.ctx.db);
    await runs.transition(t.runId, 'running');
    await runs.transition(t.runId, 'succeeded');
    const next = await api('POST', `/api/projects/${t.projectId}/generate`, { token: t.token, body: { prompt: 'add a footer', provider: 'openai', model: 'm' } });
    expect(next.status).toBe(202);
    expect(next.body.run).toMatchObject({ kind: 'change', prompt: 'add a footer', status: 'queued' });
  });

  test('ids are accepted in either case: an upper-case project and run id name the same run', async () => {
    const t = await seedTenant(server, api);
    const upper = `/api/projects/${t.projectId.toUpperCase()}/runs/${t.runId.toUpperCase()}`;
    const got = await api('GET', upper, { token: t.token });
    expect(got.status).toBe(200);
    expect(got.body.run.id).toBe(t.runId);
    const cancelled = await api('POST', `${upper}/cancel`, { token: t.token });
    expect(cancelled.body.run).toMatchObject({ id: t.runId, status: 'cancelled' });
  });
});

describe('project delete and the orphan-workspace sweep (pglite, real Docker)', () => {
  let server: TestServer;
  let api: Api;
  const namespace = `test-lifecycle-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_SANDBOX_IMAGE: IMAGE, SAMOKODER_SANDBOX_NAMESPACE: namespace });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server?.close();
  });

  test('DELETE with an upper-case id removes the row, the active run, the containers and the workspace', async () => {
    const t = await seedTenant(server, api);
    const dir = (await server.ctx.workspaces.open(t.projectId)).dir;
    const handle = await server.ctx.sandbox!.acquire(t.projectId, dir, { ownerId: t.userId });
    expect((await handle.exec('echo hi')).stdout.trim()).toBe('hi');
    await handle.release();
    expect(await dockerPs(t.projectId)).toHaveLength(1);

    const res = await api('DELETE', `/api/projects/${t.projectId.toUpperCase()}`, { token: t.token });
    expect(res.status).toBe(204);
    expect(await dockerPs(t.projectId)).toEqual([]);
    expect(await server.ctx.workspaces.exists(t.projectId)).toBe(false);
    expect((await readdir(server.config.workspaces.dir)).filter((n) => n.startsWith(t.projectId))).toEqual([]);
    expect((await server.ctx.db.query('SELECT 1 FROM runs WHERE project_id = $1', [t.projectId])).rows).toEqual([]);
    const jobs = await server.ctx.db.query<{ status: string }>("SELECT status FROM jobs WHERE payload->>'runId' = $1", [t.runId]);
    expect(jobs.rows.map((j) => j.status)).toEqual(['failed']);
    expect((await api('GET', `/api/projects/${t.projectId}`, { token: t.token })).status).toBe(404);
    expect(await new ProjectTombstones(server.ctx.db).list(1000)).not.toContain(t.projectId);
  });

  test('the sweep removes the workspace a delete interrupted after its row went, and keeps live and unknown ones', async () => {
    const live = await seedTenant(server, api);
    // What a crash mid-delete leaves: the delete's transaction committed (row gone, tombstone
    // written), the process died before the files were removed.
    const crashed = await seedTenant(server, api);
    await server.ctx.db.transaction(async (tx) => {
      await new ProjectsRepo(tx).delete(crashed.projectId, crashed.userId);
      await new ProjectTombstones(tx).add(crashed.projectId);
    });
    // A folder this database never had a project for (e.g. a workspaces directory shared by
    // mistake with another deployment's database) is not this sweep's to remove.
    const unknown = randomUUID();
    await server.ctx.workspaces.create(unknown);
    const root = server.config.workspaces.dir;

    const removed = await sweepOrphanWorkspaces({ db: server.ctx.db, workspaces: server.ctx.workspaces, logger: server.ctx.logger });
    expect(removed).toEqual([crashed.projectId]);
    expect(await server.ctx.workspaces.exists(crashed.projectId)).toBe(false);
    expect((await readdir(root)).filter((n) => n.startsWith(crashed.projectId))).toEqual([]);
    expect(await new ProjectTombstones(server.ctx.db).list(10)).toEqual([]);
    expect(await server.ctx.workspaces.exists(live.projectId)).toBe(true);
    expect(await server.ctx.workspaces.exists(unknown)).toBe(true);
    const file = await api('GET', `/api/projects/${live.projectId}/files/${live.filePath}`, { token: live.token });
    expect(file.status).toBe(200);
    // Nothing left to do: a second sweep is a no-op.
    expect(await sweepOrphanWorkspaces({ db: server.ctx.db, workspaces: server.ctx.workspaces, logger: server.ctx.logger })).toEqual([]);
  });
});

describe('a delete whose step fails leaves the whole project', () => {
  let t: TestDatabase;
  let dataDir: string;
  let server: RunningServer;
  beforeAll(async () => {
    t = await createTestDatabase('pglite', { migrate: false });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-test-'));
    const overrides = { PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_AUTH_RATE_LIMIT: 1000, SAMOKODER_WORKSPACE_QUOTA: 'reactive', ...NO_WORKER };
    const logger = createLogger({ level: 'silent' });
    // The real Docker adapter, on an engine that does not answer (as when dockerd is down).
    const unreachable = createDockerSandbox({
      settings: sandboxSettingsFromConfig(loadConfig({}, overrides)),
      logger,
      docker: new Docker({ socketPath: path.join(dataDir, 'no-docker.sock') }),
    });
    server = await startServer({ env: {}, overrides, db: t.db, logger, services: { sandbox: unreachable } });
  });
  afterAll(async () => {
    await server?.stop();
    await t?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the containers cannot be removed: 503 E_SANDBOX_UNAVAILABLE, and the row, files and history are all still there', async () => {
    const api = apiClient(server.url);
    const tenant = await seedTenant({ ...server, logs: [], dataDir, close: async () => undefined }, api);
    const res = await api('DELETE', `/api/projects/${tenant.projectId}`, { token: tenant.token });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('E_SANDBOX_UNAVAILABLE');
    expect(res.body.error.message).toMatch(/not deleted/);
    expect((await api('GET', `/api/projects/${tenant.projectId}`, { token: tenant.token })).status).toBe(200);
    const file = await api('GET', `/api/projects/${tenant.projectId}/files/${tenant.filePath}`, { token: tenant.token });
    expect(file.body.content).toBe('export const answer = 42;\n');
    const history = await api('GET', `/api/projects/${tenant.projectId}/history`, { token: tenant.token });
    expect(history.body.commits).toHaveLength(2);
    // The project still counts against the plan: nothing was freed.
    expect((await server.ctx.db.query('SELECT 1 FROM projects WHERE id = $1', [tenant.projectId])).rows).toHaveLength(1);
    // Only the run was stopped (a delete attempt always stops it first).
    const runRes = await api('GET', `/api/projects/${tenant.projectId}/runs/${tenant.runId}`, { token: tenant.token });
    expect(runRes.body.run.status).toBe('cancelled');
  });
});
