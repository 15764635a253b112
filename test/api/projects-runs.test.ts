import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, seedTenant, type Api, type Tenant } from './fixtures.js';

describe('REST: projects, runs, files, history, export', () => {
  let server: TestServer;
  let api: Api;
  let a: Tenant;
  beforeAll(async () => {
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_PLATFORM_KEYS_ANTHROPIC: 'sk-ant-platform-key-1', SAMOKODER_RUN_MAX_ATTEMPTS: '7' });
    api = apiClient(server.url);
    a = await seedTenant(server, api);
  });
  afterAll(async () => {
    await server.close();
  });

  test('create, get, list (paginated), and the project’s workspace exists', async () => {
    const created = await api('POST', '/api/projects', { token: a.token, body: { prompt: 'A blog engine with comments\nand more detail' } });
    expect(created.status).toBe(201);
    expect(created.body.project).toMatchObject({ name: 'A blog engine with comments', slug: 'a-blog-engine-with-comments', lastEventSeq: 0 });
    expect(await server.ctx.workspaces.exists(created.body.project.id)).toBe(true);
    const got = await api('GET', `/api/projects/${created.body.project.id}`, { token: a.token });
    expect(got.body.project).toEqual(created.body.project);
    const first = await api('GET', '/api/projects?limit=1', { token: a.token });
    expect(first.body.projects.map((p: { id: string }) => p.id)).toEqual([created.body.project.id]);
    const second = await api('GET', `/api/projects?limit=1&cursor=${first.body.nextCursor}`, { token: a.token });
    expect(second.body.projects.map((p: { id: string }) => p.id)).toEqual([a.projectId]);
    expect(second.body.nextCursor).toBeNull();
  });

  test('the plan’s project limit is enforced atomically under concurrency (E_LIMIT)', async () => {
    const u = await registerUser(api); // free plan: 2 projects
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api('POST', '/api/projects', { token: u.token, body: { prompt: `p${i}` } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of results.filter((x) => x.status !== 201)) expect(r).toMatchObject({ status: 402, body: { error: { code: 'E_LIMIT' } } });
  });

  test('generate: first run uses the project prompt; a change request needs a prompt; GET shows steps and usage', async () => {
    const runs = await api('GET', `/api/projects/${a.projectId}/runs`, { token: a.token });
    expect(runs.body.runs).toHaveLength(1);
    expect(runs.body.runs[0]).toMatchObject({ id: a.runId, kind: 'generate', prompt: 'a todo app', keySource: 'byok', keyId: a.keyId, status: 'queued' });
    const job = await server.ctx.db.query<{ max_attempts: number }>("SELECT max_attempts FROM jobs WHERE payload->>'runId' = $1", [a.runId]);
    expect(job.rows).toEqual([{ max_attempts: 7 }]); // SAMOKODER_RUN_MAX_ATTEMPTS
    const noPrompt = await api('POST', `/api/projects/${a.projectId}/generate`, { token: a.token, body: { provider: 'openai', model: 'gpt-4o-mini' } });
    expect(noPrompt.status).toBe(400);
    expect(noPrompt.body.error.message).toMatch(/prompt: is required for a change request/);
    // One active run per project: the seeded run is still queued.
    const second = await api('POST', `/api/projects/${a.projectId}/generate`, { token: a.token, body: { prompt: 'add dark mode', provider: 'openai', model: 'gpt-4o-mini' } });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'E_CONFLICT', details: { activeRunId: a.runId } });
    expect(second.body.error.message).toContain(a.runId);
    expect((await api('POST', `/api/projects/${a.projectId}/runs/${a.runId}/cancel`, { token: a.token })).body.run.status).toBe('cancelled');
    const change = await api('POST', `/api/projects/${a.projectId}/generate`, { token: a.token, body: { prompt: 'add dark mode', provider: 'openai', model: 'gpt-4o-mini' } });
    expect(change.status).toBe(202);
    // Without keyId and without platform keys for openai: the caller's newest openai key.
    expect(change.body.run).toMatchObject({ kind: 'change', prompt: 'add dark mode', keySource: 'byok', keyId: a.keyId });
    const one = await api('GET', `/api/projects/${a.projectId}/runs/${change.body.run.id}`, { token: a.token });
    expect(one.body).toMatchObject({ run: { id: change.body.run.id, usage: { inputTokens: 0, outputTokens: 0 } }, steps: [] });
    await api('POST', `/api/projects/${a.projectId}/runs/${change.body.run.id}/cancel`, { token: a.token });
    // Platform keys: the unlimited plan allows them and the operator configured anthropic.
    const platform = await api('POST', `/api/projects/${a.projectId}/generate`, { token: a.token, body: { prompt: 'x', provider: 'anthropic', model: 'claude-x' } });
    expect(platform.body.run).toMatchObject({ keySource: 'platform', keyId: null });
  });

  test('generate: no usable key is a clear 400 E_NO_KEY; another user’s keyId is 404', async () => {
    const u = await registerUser(api);
    const p = await api('POST', '/api/projects', { token: u.token, body: { prompt: 'x' } });
    const res = await api('POST', `/api/projects/${p.body.project.id}/generate`, { token: u.token, body: { provider: 'anthropic', model: 'claude-x' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('E_NO_KEY');
    expect(res.body.error.message).toMatch(/POST \/api\/user\/api-keys/);
    const foreign = await api('POST', `/api/projects/${p.body.project.id}/generate`, { token: u.token, body: { provider: 'openai', model: 'm', keyId: a.keyId } });
    expect(foreign.status).toBe(404);
  });

  test('generate: the plan’s concurrent-run limit (free: 1) is E_LIMIT', async () => {
    const u = await registerUser(api);
    const key = await api('POST', '/api/user/api-keys', { token: u.token, body: { provider: 'groq', apiKey: 'gsk_testkey1234' } });
    const ps = await Promise.all([1, 2].map(() => api('POST', '/api/projects', { token: u.token, body: { prompt: 'x' } })));
    const body = { prompt: 'go', provider: 'groq', model: 'llama', keyId: key.body.id };
    const results = await Promise.all(ps.map((p) => api('POST', `/api/projects/${p.body.project.id}/generate`, { token: u.token, body })));
    expect(results.map((r) => r.status).sort()).toEqual([202, 402]);
  });

  test('cancel: a queued run is cancelled at once; a finished one is returned unchanged', async () => {
    const mine = await api('POST', '/api/projects', { token: a.token, body: { prompt: 'y' } });
    const res = await api('POST', `/api/projects/${mine.body.project.id}/generate`, { token: a.token, body: { provider: 'openai', model: 'm' } });
    const url = `/api/projects/${mine.body.project.id}/runs/${res.body.run.id}/cancel`;
    const cancelled = await api('POST', url, { token: a.token });
    expect(cancelled.body.run).toMatchObject({ status: 'cancelled', reason: 'cancelled', message: null });
    expect((await api('POST', url, { token: a.token })).body.run.status).toBe('cancelled');
    // The run id under another project of the same user is not found.
    const other = await api('POST', '/api/projects', { token: a.token, body: { prompt: 'z' } });
    expect((await api('POST', `/api/projects/${other.body.project.id}/runs/${res.body.run.id}/cancel`, { token: a.token })).status).toBe(404);
  });

  test('files: tree, content, unsafe paths', async () => {
    const tree = await api('GET', `/api/projects/${a.projectId}/files`, { token: a.token });
    expect(tree.body.entries).toEqual(expect.arrayContaining([{ path: 'src/index.ts', type: 'file', size: 26 }]));
    const file = await api('GET', `/api/projects/${a.projectId}/files/src/index.ts`, { token: a.token });
    expect(file.body).toEqual({ path: 'src/index.ts', size: 26, binary: false, content: 'export const answer = 42;\n' });
    expect((await api('GET', `/api/projects/${a.projectId}/files/src/nope.ts`, { token: a.token })).status).toBe(404);
    const escape = await api('GET', `/api/projects/${a.projectId}/files/src/..%2F..%2F..%2Fetc%2Fpasswd`, { token: a.token });
    expect(escape.status).toBe(400);
    expect(escape.body.error.code).toBe('E_PATH_UNSAFE');
  });

  test('history, diff, revert (a new commit; later history kept)', async () => {
    const history = await api('GET', `/api/projects/${a.projectId}/history`, { token: a.token });
    expect(history.body.commits.map((c: { sha: string }) => c.sha)).toEqual([...a.shas].reverse());
    const diff = await api('GET', `/api/projects/${a.projectId}/diff?from=${a.shas[0]}&to=${a.shas[1]}`, { token: a.token });
    expect(diff.body.files.map((f: { path: string }) => f.path).sort()).toEqual(['README.md', 'src/index.ts']);
    expect(diff.body.patch).toContain('+export const answer = 42;');
    expect((await api('GET', `/api/projects/${a.projectId}/diff?from=zz&to=${a.shas[1]}`, { token: a.token })).status).toBe(400);
    // A queued run blocks the revert (it would be overwritten by the run's next step).
    const blocked = await api('POST', `/api/projects/${a.projectId}/revert`, { token: a.token, body: { to: a.shas[0] } });
    expect(blocked.body.error?.code).toBe('E_CONFLICT');
    const other = await seedTenant(server, api);
    await api('POST', `/api/projects/${other.projectId}/runs/${other.runId}/cancel`, { token: other.token });
    const reverted = await api('POST', `/api/projects/${other.projectId}/revert`, { token: other.token, body: { to: other.shas[0] } });
    expect(reverted.status).toBe(201);
    const after = await api('GET', `/api/projects/${other.projectId}/history`, { token: other.token });
    expect(after.body.commits.map((c: { sha: string }) => c.sha)).toEqual([reverted.body.sha, ...[...other.shas].reverse()]);
    expect((await api('GET', `/api/projects/${other.projectId}/files`, { token: other.token })).body.entries).toEqual([]);
  });

  test('export: GET and POST stream application/zip named after the slug; the same bytes twice', async () => {
    const get = await fetch(`${server.url}/api/projects/${a.projectId}/export`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/zip');
    expect(get.headers.get('content-disposition')).toBe('attachment; filename="todo-app.zip"');
    const bytes = Buffer.from(await get.arrayBuffer());
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const post = await fetch(`${server.url}/api/projects/${a.projectId}/export`, { method: 'POST', headers: { authorization: `Bearer ${a.token}` } });
    expect(Buffer.from(await post.arrayBuffer())).toEqual(bytes);
    const withGit = await fetch(`${server.url}/api/projects/${a.projectId}/export?git=1`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(Buffer.from(await withGit.arrayBuffer()).includes('.git/HEAD')).toBe(true);
    expect(bytes.includes('.git/HEAD')).toBe(false);
  });

  test('webhook: set returns the secret; clearing removes it', async () => {
    const set = await api('PUT', `/api/projects/${a.projectId}/webhook`, { token: a.token, body: { url: 'https://example.com/hook' } });
    expect(set.status).toBe(200);
    expect(set.body.project.webhookUrl).toBe('https://example.com/hook');
    expect(set.body.secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect((await api('PUT', `/api/projects/${a.projectId}/webhook`, { token: a.token, body: { url: 'ftp://x' } })).status).toBe(400);
    const cleared = await api('PUT', `/api/projects/${a.projectId}/webhook`, { token: a.token, body: { url: null } });
    expect(cleared.body).toMatchObject({ project: { webhookUrl: null }, secret: null });
  });

  test('delete: stops its runs, removes the workspace, keeps usage rows', async () => {
    const t = await seedTenant(server, api);
    await server.ctx.db.query(
      `INSERT INTO usage_ledger (user_id, project_id, run_id, month, provider, model, key_source, input_tokens, output_tokens, status)
       VALUES ($1, $2, $3, date_trunc('month', now())::date, 'openai', 'm', 'byok', 10, 5, 'settled')`,
      [t.userId, t.projectId, t.runId],
    );
    const usageBefore = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_ledger WHERE user_id = $1', [t.userId]);
    const res = await api('DELETE', `/api/projects/${t.projectId}`, { token: t.token });
    expect(res.status).toBe(204);
    expect(await server.ctx.workspaces.exists(t.projectId)).toBe(false);
    const jobs = await server.ctx.db.query<{ status: string }>("SELECT status FROM jobs WHERE payload->>'projectId' = $1", [t.projectId]);
    expect(jobs.rows.every((j) => j.status !== 'queued' && j.status !== 'active')).toBe(true);
    expect(usageBefore.rows[0]!.n).toBe(1);
    const usageAfter = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_ledger WHERE user_id = $1', [t.userId]);
    expect(usageAfter.rows[0]!.n).toBe(usageBefore.rows[0]!.n);
    expect((await api('GET', `/api/projects/${t.projectId}`, { token: t.token })).status).toBe(404);
    expect((await api('DELETE', `/api/projects/${t.projectId}`, { token: t.token })).status).toBe(404);
  });
});

describe('generate rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_GENERATE_RATE_LIMIT_USER: 2, SAMOKODER_GENERATE_RATE_LIMIT_IP: 3, SAMOKODER_GENERATE_RATE_WINDOW_SECONDS: 60 });
  });
  afterAll(async () => {
    await server.close();
  });

  test('per user, then per IP: 429 E_RATE_LIMITED with Retry-After', async () => {
    const api = apiClient(server.url);
    const u1 = await seedTenant(server, api); // seeding used one generate
    await api('POST', `/api/projects/${u1.projectId}/runs/${u1.runId}/cancel`, { token: u1.token });
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await api('POST', `/api/projects/${u1.projectId}/generate`, { token: u1.token, body: { prompt: `c${i}`, provider: 'openai', model: 'm' } });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body.error.code).toBe('E_RATE_LIMITED');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([202, 429]);
    // A second user from the same address: the IP's third generate passes, the fourth does not.
    const u2 = await seedTenant(server, api);
    const res = await api('POST', `/api/projects/${u2.projectId}/generate`, { token: u2.token, body: { prompt: 'c', provider: 'openai', model: 'm' } });
    expect(res.status).toBe(429);
    expect(res.body.error.message).toMatch(/from this address/);
  });

  test('sign-in attempts per account are limited across addresses', async () => {
    const s = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_AUTH_RATE_LIMIT_ACCOUNT: 2 });
    try {
      const api = apiClient(s.url);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await api('POST', '/api/auth/login', { body: { email: 'Victim@example.com', password: 'wrong password!' } })).status);
      expect(statuses).toEqual([401, 401, 429]);
      // Another account is unaffected.
      expect((await api('POST', '/api/auth/login', { body: { email: 'other@example.com', password: 'wrong password!' } })).status).toBe(401);
    } finally {
      await s.close();
    }
  });
});
