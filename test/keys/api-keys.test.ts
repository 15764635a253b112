import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { dumpDatabase, fakeSecret } from './fixtures.js';

const request = (text: string) => ({ model: 'fake-model', system: 'You are terse.', messages: [{ role: 'user' as const, content: text }], maxOutputTokens: 50 });

describe.each(DATABASE_KINDS)('BYOK keys API, gateway and usage on %s', (kind) => {
  let fake: FakeLlm;
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  const bodies: string[] = [];
  const call: ReturnType<typeof apiClient> = async (...args) => {
    const res = await api(...args);
    bodies.push(res.text);
    return res;
  };

  beforeAll(async () => {
    fake = await startFakeLlm();
    server = await startTestServer(kind, {
      SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
      SAMOKODER_ANTHROPIC_BASE_URL: fake.baseUrls.anthropic,
      SAMOKODER_GROQ_BASE_URL: fake.baseUrls.groq,
      SAMOKODER_OPENROUTER_BASE_URL: fake.baseUrls.openrouter,
      SAMOKODER_LLM_MAX_RETRIES: 0,
    });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  test('keys CRUD: stored masked, listed masked, deleted; another user gets 404', async () => {
    const alice = await registerUser(api);
    const bob = await registerUser(api);
    const secret = fakeSecret('sk-');
    const created = await call('POST', '/api/user/api-keys', { token: alice.token, body: { provider: 'openai', apiKey: secret, label: 'work' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ provider: 'openai', label: 'work', masked: `sk-…${secret.slice(-4)}`, baseUrl: null });
    expect(Object.keys(created.body).sort()).toEqual(['baseUrl', 'createdAt', 'id', 'label', 'lastUsedAt', 'masked', 'provider']);

    const compat = await call('POST', '/api/user/api-keys', {
      token: alice.token,
      body: { provider: 'openai-compatible', apiKey: fakeSecret('ol-'), baseUrl: 'http://localhost:11434/v1' },
    });
    expect(compat.status).toBe(201);
    expect(compat.body.baseUrl).toBe('http://localhost:11434/v1');

    const list = await call('GET', '/api/user/api-keys', { token: alice.token });
    expect(list.status).toBe(200);
    expect(list.body.keys.map((k: { id: string }) => k.id).sort()).toEqual([created.body.id, compat.body.id].sort());
    expect((await call('GET', '/api/user/api-keys', { token: bob.token })).body.keys).toEqual([]);

    expect((await call('DELETE', `/api/user/api-keys/${created.body.id}`, { token: bob.token })).status).toBe(404);
    expect((await call('DELETE', `/api/user/api-keys/${created.body.id}`, { token: alice.token })).status).toBe(204);
    expect((await call('DELETE', `/api/user/api-keys/${created.body.id}`, { token: alice.token })).status).toBe(404);
    expect((await call('GET', '/api/user/api-keys', { token: alice.token })).body.keys).toHaveLength(1);
    expect((await call('GET', '/api/user/api-keys')).status).toBe(401);
  });

  test.each([
    [{ provider: 'nope', apiKey: 'sk-x' }, 'provider'],
    [{ provider: 'openai', apiKey: '' }, 'apiKey'],
    [{ provider: 'openai', apiKey: 'sk-has space' }, 'apiKey'],
    [{ provider: 'openai', apiKey: 'sk-line\nbreak' }, 'apiKey'],
    [{ provider: 'openai', apiKey: 'x'.repeat(600) }, 'apiKey'],
    [{ provider: 'openai-compatible', apiKey: 'sk-abc' }, 'baseUrl'],
    [{ provider: 'openai', apiKey: 'sk-abc', baseUrl: 'ftp://example.com' }, 'baseUrl'],
    [{ provider: 'openai', apiKey: 'sk-abc', label: 'l'.repeat(101) }, 'label'],
  ])('bad input (case %#) → 400 E_VALIDATION naming the field', async (body, field) => {
    const user = await registerUser(api);
    const res = await call('POST', '/api/user/api-keys', { token: user.token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('E_VALIDATION');
    expect(res.body.error.message).toContain(`${field}:`);
  });

  test('validate: a working key is stored with validation ok; a rejected one is not stored (E_KEY_INVALID)', async () => {
    const user = await registerUser(api);
    const good = fakeSecret();
    const bad = fakeSecret();
    fake.setScript({ faultsByKey: { [bad]: { status: 401, message: `Incorrect API key provided: ${bad}` } } });
    const ok = await call('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: good, validate: true } });
    expect(ok.status).toBe(201);
    expect(ok.body.validation).toEqual({ ok: true, method: 'list', models: [{ id: 'fake-model' }, { id: 'fake-model-large' }] });
    const rejected = await call('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'anthropic', apiKey: bad, validate: true } });
    expect(rejected.status).toBe(400);
    expect(rejected.body.error.code).toBe('E_KEY_INVALID');
    expect(rejected.body.error.details.validation).toMatchObject({ ok: false, error: expect.stringContaining('401') });
    expect((await call('GET', '/api/user/api-keys', { token: user.token })).body.keys).toHaveLength(1);
    fake.setScript({});
  });

  test('gateway calls with stored keys are settled on the ledger; GET /api/usage and /api/me agree; no plaintext anywhere', async () => {
    const user = await registerUser(api);
    const secrets = { openai: fakeSecret('sk-'), anthropic: fakeSecret('sk-ant-'), groq: fakeSecret('gsk_') };
    const ids: Record<string, string> = {};
    for (const [provider, apiKey] of Object.entries(secrets)) {
      const res = await call('POST', '/api/user/api-keys', { token: user.token, body: { provider, apiKey } });
      expect(res.status).toBe(201);
      ids[provider] = res.body.id;
    }
    const revoked = fakeSecret('sk-');
    const revokedRes = await call('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openrouter', apiKey: revoked } });
    fake.setScript({
      turns: [
        { match: { provider: 'openai' }, text: 'hello from openai', usage: { input: 120, output: 30 } },
        { match: { provider: 'anthropic' }, text: 'hello from anthropic', usage: { input: 200, output: 40 } },
        { match: { provider: 'groq' }, text: 'hello from groq', usage: { input: 50, output: 5 } },
      ],
      faultsByKey: { [revoked]: { status: 401, message: `Incorrect API key provided: ${revoked}` } },
    });
    const gateway = server.ctx.llm.gateway;
    const o = await gateway.complete(request('hi'), { userId: user.userId, provider: 'openai', keySource: 'byok', keyId: ids.openai });
    expect(o).toMatchObject({ text: 'hello from openai', usage: { inputTokens: 120, outputTokens: 30 }, finishReason: 'stop' });
    const parts = [];
    for await (const p of gateway.stream(request('hi'), { userId: user.userId, provider: 'anthropic', keySource: 'byok' })) parts.push(p);
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text).join('')).toBe('hello from anthropic');
    await gateway.complete(request('hi'), { userId: user.userId, provider: 'groq', keySource: 'byok', keyId: ids.groq });
    // The fake server saw each call with the right key.
    expect(fake.requests.filter((r) => r.apiKey === secrets.openai)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.apiKey === secrets.anthropic)).toHaveLength(1);

    const failed = gateway.complete(request('hi'), { userId: user.userId, provider: 'openrouter', keySource: 'byok', keyId: revokedRes.body.id });
    await expect(failed).rejects.toMatchObject({ code: 'E_PROVIDER_AUTH' });
    await failed.catch((err: Error) => expect(`${err.message} ${String(err.stack)}`).not.toContain(revoked));
    // Another user's key id is not found, and the plan's limits apply before any request.
    const other = await registerUser(api);
    await expect(gateway.complete(request('hi'), { userId: other.userId, provider: 'openai', keySource: 'byok', keyId: ids.openai })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await expect(gateway.complete(request('hi'), { userId: user.userId, provider: 'openai', keySource: 'platform' })).rejects.toMatchObject({ code: 'E_LIMIT', message: expect.stringContaining('limit_exceeded') });

    const usage = await call('GET', '/api/usage', { token: user.token });
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({ usedTokens: 150 + 240 + 55, reservedTokens: 0, plan: { id: 'free', monthlyTokenLimit: 200000 }, remainingTokens: 200000 - 445 });
    const byModel = Object.fromEntries(usage.body.byModel.map((m: { provider: string }) => [m.provider, m]));
    expect(byModel.openai).toMatchObject({ model: 'fake-model', calls: 1, inputTokens: 120, outputTokens: 30, costMicroUsd: null, pending: 0 });
    expect(byModel.anthropic).toMatchObject({ calls: 1, inputTokens: 200, outputTokens: 40 });
    expect(byModel.openrouter).toMatchObject({ calls: 1, inputTokens: 0, outputTokens: 0 });
    const me = await call('GET', '/api/me', { token: user.token });
    expect(me.body.usage).toMatchObject({ usedTokens: usage.body.usedTokens, reservedTokens: 0, month: usage.body.month });
    const keys = await call('GET', '/api/user/api-keys', { token: user.token });
    const lastUsedAt = keys.body.keys.find((k: { id: string }) => k.id === ids.openai).lastUsedAt;
    expect(lastUsedAt).not.toBeNull();
    // last_used_at is written at most once a minute per key (not on every call).
    await gateway.complete(request('hi'), { userId: user.userId, provider: 'openai', keySource: 'byok', keyId: ids.openai });
    const again = await call('GET', '/api/user/api-keys', { token: user.token });
    expect(again.body.keys.find((k: { id: string }) => k.id === ids.openai).lastUsedAt).toBe(lastUsedAt);

    const everySecret = [...Object.values(secrets), revoked];
    const dump = await dumpDatabase(server.ctx.db);
    expect(dump).toContain(ids.openai);
    const logs = server.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    const responses = bodies.join('\n');
    for (const s of everySecret) {
      expect(dump).not.toContain(s);
      expect(logs).not.toContain(s);
      expect(responses).not.toContain(s);
      // Not even the key's middle part.
      expect(dump + logs + responses).not.toContain(s.slice(6, 30));
    }
    fake.setScript({});
  });
});
