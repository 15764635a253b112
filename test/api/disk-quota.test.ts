import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { isMountPoint } from '../../workspaces/loop-volume.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, type Api } from './fixtures.js';

const MIB = 1024 * 1024;

describe('the host free-space reserve', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    // A reserve no disk has free: every new project and run is refused.
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_DISK_RESERVE_MB: 1024 * 1024 * 1024 });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test('refuses a new project and a new run with 503 E_DISK_RESERVE (Retry-After), and creates nothing', async () => {
    const u = await registerUser(api);
    const created = await api('POST', '/api/projects', { token: u.token, body: { prompt: 'a todo app' } });
    expect(created).toMatchObject({ status: 503, body: { error: { code: 'E_DISK_RESERVE', message: expect.stringMatching(/low on disk space/) } } });
    expect(created.headers.get('retry-after')).toBe('300');
    expect((await api('GET', '/api/projects', { token: u.token })).body.projects).toEqual([]);

    // A project made before the disk got low: its next run is refused the same way.
    const key = await api('POST', '/api/user/api-keys', { token: u.token, body: { provider: 'openai', apiKey: `sk-test${Math.random().toString(36).slice(2)}abcd` } });
    expect(key.status).toBe(201);
    const project = await new ProjectsRepo(server.ctx.db).create({ userId: u.userId, name: 'Old', prompt: 'a todo app' });
    await server.ctx.workspaces.create(project.id);
    const run = await api('POST', `/api/projects/${project.id}/generate`, { token: u.token, body: { provider: 'openai', model: 'gpt-4o-mini', keyId: key.body.id } });
    expect(run).toMatchObject({ status: 503, body: { error: { code: 'E_DISK_RESERVE' } } });
    expect((await api('GET', `/api/projects/${project.id}/runs`, { token: u.token })).body.runs).toEqual([]);
  });
});

const volumeDescribe = process.getuid?.() === 0 ? describe : describe.skip;

volumeDescribe('workspace volumes through the API', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_WORKSPACE_QUOTA: 'best-effort' });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test("/readyz says volumes are active; a new project's volume has its plan's quota; deleting the project unmounts and deletes it", async () => {
    expect(await api('GET', '/readyz')).toMatchObject({ status: 200, body: { checks: { workspaceQuota: { setting: 'best-effort', active: 'volume' } } } });
    const plans = await api('GET', '/api/plans');
    expect(plans.body.plans.find((p: { id: string }) => p.id === 'free')).toMatchObject({ maxWorkspaceMb: 512 });

    const u = await registerUser(api); // the free plan
    await server.ctx.db.query("UPDATE plans SET max_workspace_mb = 32 WHERE id = 'free'");
    try {
      const created = await api('POST', '/api/projects', { token: u.token, body: { prompt: 'a todo app' } });
      expect(created.status).toBe(201);
      const id: string = created.body.project.id;
      const root = server.config.workspaces.dir;
      expect((await stat(path.join(root, `${id}.img`))).size).toBe(32 * MIB);
      expect(await isMountPoint(path.join(root, id))).toBe(true);
      const ws = await server.ctx.workspaces.open(id);
      expect(ws.quota).toMatchObject({ mode: 'volume', limitBytes: 32 * MIB });

      expect((await api('DELETE', `/api/projects/${id}`, { token: u.token })).status).toBe(204);
      await expect(lstat(path.join(root, `${id}.img`))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(lstat(path.join(root, id))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await isMountPoint(path.join(root, id))).toBe(false);
    } finally {
      await server.ctx.db.query("UPDATE plans SET max_workspace_mb = 512 WHERE id = 'free'");
    }
  });
});
