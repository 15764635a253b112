import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { createLogger } from '../../core/logger.js';
import { LABEL_NAMESPACE } from '../../sandbox/labels.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { tinyAppResponder } from '../../scripts/fake-llm/tiny-app.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt, onJsonLines, ROOT } from '../helpers/processes.js';
import { apiClient, registerUser, type ApiResponse } from '../helpers/server.js';
import { newMasterKeyText } from '../keys/fixtures.js';

/** `samokoder worker` as its own process; resolves once it says it started. */
function startWorkerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; lines: Array<Record<string, unknown>>; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'worker'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    onJsonLines(child.stdout!, (parsed) => {
      lines.push(parsed);
      if (parsed.msg === 'samokoder worker started') resolve({ child, lines, exited });
    });
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it started: ${stderr}`)));
  });
}

interface RunBody {
  run: { id: string; status: string; reason: string | null };
  steps: Array<{ kind: string }>;
}

async function waitForRun(api: ReturnType<typeof apiClient>, token: string, projectId: string, runId: string, done: (status: string) => boolean, timeoutMs: number): Promise<ApiResponse<RunBody>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = await api<RunBody>('GET', `/api/projects/${projectId}/runs/${runId}`, { token });
    if (done(res.body.run.status)) return res;
    if (Date.now() > end) throw new Error(`run ${runId} still ${res.body.run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * An API-only node (SAMOKODER_RUN_CONCURRENCY=0, in this process) and a worker-only node
 * (`samokoder worker`, its own process) on one PostgreSQL and one workspaces directory: the API
 * queues, the worker runs, the API serves the result; a cancel made on the API node reaches the
 * run on the worker.
 */
describe('an API-only node and a worker-only node', () => {
  let pg: { url: string; drop: () => Promise<void> } | undefined;
  let fast: FakeLlm | undefined;
  let slow: FakeLlm | undefined;
  let apiNode: RunningServer | undefined;
  let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
  const dirs: string[] = [];
  const namespace = `test-worker-${randomUUID().slice(0, 8)}`;
  const tmp = async (prefix: string) => {
    const d = await mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    ensureBuilt();
    pg = await createEmptyPgDatabase();
    fast = await startFakeLlm({ responder: tinyAppResponder({ firstByteDelayMs: 0, chunkDelayMs: 0 }) });
    // Answers after ten minutes: a run on it stays inside its first model call until cancelled.
    slow = await startFakeLlm({ responder: tinyAppResponder({ firstByteDelayMs: 600_000, chunkDelayMs: 0 }) });
    const workspaces = await tmp('sk-worker-ws-');
    const shared = {
      DATABASE_URL: pg.url,
      SAMOKODER_MASTER_KEY: newMasterKeyText(),
      SAMOKODER_WORKSPACES_DIR: workspaces,
      SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
      SAMOKODER_SANDBOX_NAMESPACE: namespace,
      SAMOKODER_DEFAULT_PLAN: 'unlimited',
      SAMOKODER_LLM_MAX_RETRIES: '0',
      // Plain workspace folders: a loop-mounted volume would outlive the test's temporary folder.
      SAMOKODER_WORKSPACE_QUOTA: 'reactive',
    };
    apiNode = await startServer({
      env: {},
      overrides: { ...shared, PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: await tmp('sk-api-node-'), SAMOKODER_RUN_CONCURRENCY: 0 },
      logger: createLogger({ level: 'silent' }),
    });
    worker = await startWorkerProcess({ ...shared, SAMOKODER_DATA_DIR: await tmp('sk-worker-node-'), SAMOKODER_RUN_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await worker?.exited;
    await apiNode?.stop();
    const docker = new Docker({ version: 'v1.41' });
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${namespace}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await pg?.drop();
    await fast?.close();
    await slow?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function tenant(fake: FakeLlm) {
    const api = apiClient(apiNode!.url);
    const user = await registerUser(api);
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey: `sk-worker-${randomUUID()}`, baseUrl: fake.baseUrls['openai-compatible'] } });
    expect(key.status).toBe(201);
    const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'a sum function with a test' } });
    return { api, token: user.token, projectId: project.body.project.id as string, keyId: key.body.id as string };
  }

  test('the API-only node runs nothing itself; the worker process runs its queued run to success', async () => {
    expect(apiNode!.services.runsWorker).toBe(false);
    const { api, token, projectId, keyId } = await tenant(fast!);
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token, body: { provider: 'openai-compatible', model: 'fake-model', keyId } });
    expect(gen.status).toBe(202);
    const done = await waitForRun(api, token, projectId, gen.body.run.id, (s) => s !== 'queued' && s !== 'running', 180_000);
    expect(done.body.run).toMatchObject({ status: 'succeeded', reason: null });
    expect(done.body.steps.map((s) => s.kind)).toEqual(['planner', 'architect', 'coder', 'verify']);
    const file = await api('GET', `/api/projects/${projectId}/files/sum.js`, { token });
    expect(file.body.content).toContain('export const sum');
  }, 240_000);

  test('a cancel made on the API node stops the run the worker is executing', async () => {
    const { api, token, projectId, keyId } = await tenant(slow!);
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token, body: { provider: 'openai-compatible', model: 'fake-model', keyId } });
    const runId: string = gen.body.run.id;
    await waitForRun(api, token, projectId, runId, (s) => s === 'running', 120_000);
    const asked = await api('POST', `/api/projects/${projectId}/runs/${runId}/cancel`, { token });
    expect(asked.body.run.cancelRequestedAt).not.toBeNull();
    // The model would answer in ten minutes; a cancel that reached the worker ends the run long before.
    const done = await waitForRun(api, token, projectId, runId, (s) => s !== 'queued' && s !== 'running', 60_000);
    expect(done.body.run).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
  }, 240_000);

  test('SIGTERM stops the worker gracefully: exit 0 after a clean shutdown', async () => {
    worker!.child.kill('SIGTERM');
    expect(await worker!.exited).toBe(0);
    expect(worker!.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['signal received', 'stopped']));
  }, 60_000);
});
