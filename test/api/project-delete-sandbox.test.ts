import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createLogger } from '../../core/logger.js';
import { createDockerSandbox } from '../../sandbox/docker-sandbox.js';
import { sandboxSettingsFromConfig } from '../../sandbox/settings.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, seedTenant, type Api } from './fixtures.js';

const run = promisify(execFile);

/** What an operator sees: the project's containers, running or not, as the docker CLI lists them. */
async function dockerPs(projectId: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '-q', '--filter', `label=samokoder.project=${projectId}`]);
  return stdout.split('\n').filter(Boolean);
}

describe('DELETE /api/projects/:id removes the project’s sandbox (real Docker)', () => {
  let server: TestServer;
  let api: Api;
  // Its own namespace: nothing here can touch a parallel suite's containers.
  const namespace = `test-delete-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    server = await startTestServer('pglite', {
      ...NO_WORKER,
      SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
      SAMOKODER_SANDBOX_NAMESPACE: namespace,
    });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test("this node's and another node's containers go, with the workspace; usage rows and another project's container stay", async () => {
    const sandbox = server.ctx.sandbox!;
    const doomed = await seedTenant(server, api);
    const kept = await seedTenant(server, api);
    await server.ctx.db.query(
      `INSERT INTO usage_ledger (user_id, project_id, run_id, month, provider, model, key_source, input_tokens, output_tokens, status)
       VALUES ($1, $2, $3, date_trunc('month', now())::date, 'openai', 'm', 'byok', 10, 5, 'settled')`,
      [doomed.userId, doomed.projectId, doomed.runId],
    );
    const doomedDir = (await server.ctx.workspaces.open(doomed.projectId)).dir;
    const keptDir = (await server.ctx.workspaces.open(kept.projectId)).dir;

    // This node used the sandbox for the project, then released it: the container stays warm.
    const local = await sandbox.acquire(doomed.projectId, doomedDir, { ownerId: doomed.userId });
    expect((await local.exec('echo built > out.txt && cat out.txt')).stdout.trim()).toBe('built');
    await local.release();
    // Another node (its own sandbox adapter, same namespace) is running a command for the project.
    const otherNode = createDockerSandbox({ settings: sandboxSettingsFromConfig(server.config), logger: createLogger({ level: 'silent' }) });
    try {
      const remote = await otherNode.acquire(doomed.projectId, doomedDir);
      const running = remote.exec('sleep 60', { timeoutMs: 90_000 }).then(
        (r) => ({ exitCode: r.exitCode }),
        (err: { code?: string }) => ({ error: err.code }),
      );
      const keptHandle = await sandbox.acquire(kept.projectId, keptDir);
      expect(await dockerPs(doomed.projectId)).toHaveLength(2);

      const started = Date.now();
      expect((await api('DELETE', `/api/projects/${doomed.projectId}`, { token: doomed.token })).status).toBe(204);

      expect(await dockerPs(doomed.projectId)).toEqual([]);
      expect(await server.ctx.workspaces.exists(doomed.projectId)).toBe(false);
      const usage = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_ledger WHERE project_id = $1', [doomed.projectId]);
      expect(usage.rows[0]!.n).toBe(1);
      // The other node's command died with its container (not after its 60 s), and the next exec fails.
      const outcome = await running;
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(outcome).not.toEqual({ exitCode: 0 });
      await expect(remote.exec('echo still here')).rejects.toMatchObject({ code: 'E_SANDBOX_UNAVAILABLE' });
      // The other project's container is untouched and still works.
      expect(await dockerPs(kept.projectId)).toEqual([expect.stringMatching(/^[0-9a-f]{12}$/)]);
      expect(keptHandle.containerId.startsWith((await dockerPs(kept.projectId))[0]!)).toBe(true);
      expect((await keptHandle.exec('echo ok')).stdout.trim()).toBe('ok');
      await keptHandle.release();
    } finally {
      await otherNode.close();
    }
  });

  test('a project whose sandbox was never used deletes cleanly (nothing to remove)', async () => {
    const t = await seedTenant(server, api);
    expect(await server.ctx.sandbox!.removeProject!(t.projectId)).toBe(0);
    expect((await api('DELETE', `/api/projects/${t.projectId}`, { token: t.token })).status).toBe(204);
    expect(await server.ctx.workspaces.exists(t.projectId)).toBe(false);
  });
});
