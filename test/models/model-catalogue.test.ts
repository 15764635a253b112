import { randomUUID } from 'node:crypto';
import { hashPassword } from '../../server/auth/passwords.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import type { CatalogueModel, ModelCatalogue } from '../../protocol/model-catalogue.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { fakeSecret } from '../keys/fixtures.js';

const ADMIN_ID = randomUUID();
const PLATFORM_GROQ_KEY = fakeSecret('gsk_platform');

const modelsOf = (catalogue: ModelCatalogue, provider: string): CatalogueModel[] => catalogue.providers.find((p) => p.id === provider)?.models ?? [];
const idsOf = (catalogue: ModelCatalogue, provider: string): string[] => modelsOf(catalogue, provider).map((m) => m.id);

describe.each(DATABASE_KINDS)('model catalogue and key validation on %s', (kind) => {
  let fake: FakeLlm;
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let adminToken: string;

  beforeAll(async () => {
    fake = await startFakeLlm();
    server = await startTestServer(kind, {
      SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
      SAMOKODER_ANTHROPIC_BASE_URL: fake.baseUrls.anthropic,
      SAMOKODER_GROQ_BASE_URL: fake.baseUrls.groq,
      SAMOKODER_OPENROUTER_BASE_URL: fake.baseUrls.openrouter,
      SAMOKODER_LLM_MAX_RETRIES: 0,
      SAMOKODER_ADMIN_USER_IDS: ADMIN_ID,
      SAMOKODER_PLATFORM_KEYS_GROQ: PLATFORM_GROQ_KEY,
    });
    api = apiClient(server.url);
    const email = `admin-${randomUUID()}@example.com`;
    await server.ctx.db.query("INSERT INTO users (id, email, password_hash, plan_id) VALUES ($1, $2, $3, 'free')", [ADMIN_ID, email, await hashPassword('catalogue admin password')]);
    adminToken = (await api('POST', '/api/auth/login', { body: { email, password: 'catalogue admin password' } })).body.token;
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });
  afterEach(() => fake.setScript({}));

  test('GET /api/models: the seeded catalogue with limits, prices, tool calling and one pick per role and tier', async () => {
    const user = await registerUser(api);
    const res = await api<ModelCatalogue>('GET', '/api/models', { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.catalogueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(res.body.providers.map((p) => p.id)).toEqual(['anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible']);
    const mini = modelsOf(res.body, 'openai').find((m) => m.id === 'gpt-4o-mini');
    expect(mini).toMatchObject({ source: 'catalogue', contextWindow: 128000, maxOutputTokens: 16384, toolCalling: true, prices: { input: 0.15, output: 0.6, cachedInput: 0.075, cacheWrite: null }, retiredAt: null });
    for (const provider of ['anthropic', 'openai', 'groq', 'openrouter']) {
      for (const role of ['planner', 'architect', 'coder', 'fixer']) {
        for (const tier of ['cheap', 'strong']) {
          expect(modelsOf(res.body, provider).filter((m) => (m.recommended as Record<string, string>)[role] === tier)).toHaveLength(1);
        }
      }
    }
    // A dated snapshot takes its family's entry (the longest listed name it extends by a date).
    const catalogue = server.ctx.llm.catalogue;
    expect(catalogue.maxOutputTokensOf('openai', 'gpt-4o-mini-2024-07-18')).toBe(16384);
    expect(catalogue.price('openai', 'gpt-4o-mini-2024-07-18')).toEqual(catalogue.price('openai', 'gpt-4o-mini'));
    expect(catalogue.price('openai', 'gpt-4o-mini-unknown')).toBeUndefined();
    const only = await api<ModelCatalogue>('GET', '/api/models?provider=groq', { token: user.token });
    expect(only.body.providers.map((p) => p.id)).toEqual(['groq']);
    expect((await api('GET', '/api/models?provider=nope', { token: user.token })).status).toBe(400);
    expect((await api('GET', '/api/models')).status).toBe(401);
  });

  test.each([
    ['openai', fake_ => fake_.baseUrls.openai, '/v1/models'],
    ['anthropic', fake_ => fake_.baseUrls.anthropic, '/v1/models'],
    ['groq', fake_ => fake_.baseUrls.groq, '/openai/v1/models'],
    ['openrouter', fake_ => fake_.baseUrls.openrouter, '/api/v1/models'],
    ['openai-compatible', fake_ => fake_.baseUrls['openai-compatible'], '/compat/v1/models'],
  ] as [string, (f: FakeLlm) => string, string][])('validate: true alone checks a %s key with its model list and offers what it lists', async (provider, baseUrlOf, path) => {
    const user = await registerUser(api);
    const apiKey = fakeSecret();
    const listed = provider === 'openai' ? ['gpt-4o-mini', 'gpt-5', 'ft:gpt-4o-mini:acme'] : [`${provider}-listed-a`, `${provider}-listed-b`];
    fake.setScript({ models: listed });
    const sentBefore = fake.requests.length;
    const body = { provider, apiKey, validate: true, ...(provider === 'openai-compatible' ? { baseUrl: baseUrlOf(fake) } : {}) };
    const res = await api('POST', '/api/user/api-keys', { token: user.token, body });
    expect(res.status).toBe(201);
    expect(res.body.validation).toEqual({ ok: true, method: 'list', models: listed.map((id) => ({ id })) });
    // One GET of the list, with this key; no model was called.
    const sent = fake.requests.slice(sentBefore);
    expect(sent.map((r) => [r.method, r.path, r.apiKey])).toEqual([['GET', path, apiKey]]);

    const view = (await api<ModelCatalogue>('GET', `/api/models?provider=${provider}`, { token: user.token })).body;
    // The catalogue's models the provider no longer lists for this key are not offered; listed ones are.
    expect(idsOf(view, provider).sort()).toEqual([...listed].sort());
    for (const m of modelsOf(view, provider)) expect(m.keyIds).toEqual([res.body.id]);
    if (provider === 'openai') {
      expect(modelsOf(view, 'openai').find((m) => m.id === 'gpt-5')).toMatchObject({ source: 'catalogue', prices: { input: 1.25 } });
      expect(modelsOf(view, 'openai').find((m) => m.id === 'ft:gpt-4o-mini:acme')).toMatchObject({ source: 'key', prices: null, toolCalling: null });
    }
    // Per user: another user still sees the whole catalogue.
    const other = await registerUser(api);
    const otherView = (await api<ModelCatalogue>('GET', `/api/models?provider=${provider}`, { token: other.token })).body;
    expect(idsOf(otherView, provider)).not.toContain(listed.at(-1));
    // Deleting the key takes its listed models along.
    expect((await api('DELETE', `/api/user/api-keys/${res.body.id}`, { token: user.token })).status).toBe(204);
    expect(idsOf((await api<ModelCatalogue>('GET', `/api/models?provider=${provider}`, { token: user.token })).body, provider)).not.toContain(listed.at(-1));
  });

  test('a server without a model list (404) is checked with one one-token call: the named model, else the catalogue\'s cheapest', async () => {
    const user = await registerUser(api);
    fake.setScript({ modelsMissing: true });
    const before = fake.requests.length;
    const compat = await api('POST', '/api/user/api-keys', {
      token: user.token,
      body: { provider: 'openai-compatible', apiKey: fakeSecret('ol-'), baseUrl: fake.baseUrls['openai-compatible'], validate: true, validateModel: 'qwen-local' },
    });
    expect(compat.status).toBe(201);
    expect(compat.body.validation).toEqual({ ok: true, method: 'call', models: [{ id: 'qwen-local' }] });
    const calls = fake.requests.slice(before);
    expect(calls.map((r) => [r.method, r.path, r.status])).toEqual([['GET', '/compat/v1/models', 404], ['POST', '/compat/v1/chat/completions', 200]]);
    expect(calls[1]!.body).toMatchObject({ model: 'qwen-local', max_tokens: 1 });
    expect(idsOf((await api<ModelCatalogue>('GET', '/api/models?provider=openai-compatible', { token: user.token })).body, 'openai-compatible')).toEqual(['qwen-local']);

    const groq = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'groq', apiKey: fakeSecret('gsk_'), validate: true } });
    expect(groq.status).toBe(201);
    expect(groq.body.validation).toEqual({ ok: true, method: 'call', models: [{ id: 'llama-3.1-8b-instant' }] });

    // Nothing to call: a clear 400 naming the field, nothing stored.
    const none = await api('POST', '/api/user/api-keys', {
      token: user.token,
      body: { provider: 'openai-compatible', apiKey: fakeSecret('ol-'), baseUrl: fake.baseUrls['openai-compatible'], validate: true },
    });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringContaining('validateModel:') });
    expect((await api('GET', '/api/user/api-keys', { token: user.token })).body.keys).toHaveLength(2);
  });

  test('a rejected key: 400 E_KEY_INVALID, nothing stored, the key never echoed (body, logs)', async () => {
    const user = await registerUser(api);
    for (const provider of ['openai', 'anthropic', 'groq'] as const) {
      const bad = fakeSecret();
      fake.setScript({ faultsByKey: { [bad]: { status: 401, message: 'Incorrect API key provided: {apiKey}' } } });
      const res = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider, apiKey: bad, validate: true } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('E_KEY_INVALID');
      expect(res.body.error.message).toContain('rejected the key');
      expect(res.body.error.details.validation).toMatchObject({ ok: false, error: expect.stringContaining('HTTP 401') });
      expect(res.text).not.toContain(bad);
      expect(server.logs.join('')).not.toContain(bad);
      expect(fake.requests.filter((r) => r.apiKey === bad).map((r) => r.method)).toEqual(['GET']);
    }
    expect((await api('GET', '/api/user/api-keys', { token: user.token })).body.keys).toEqual([]);
  });

  test('operators edit the catalogue: non-admins get 403; prices, limits and retirement apply at once', async () => {
    const user = await registerUser(api);
    const edit = { provider: 'openai', model: 'gpt-4.1-mini', prices: { input: 0.5, output: 2, cachedInput: null, cacheWrite: null } };
    expect((await api('PUT', '/api/admin/models', { token: user.token, body: edit })).status).toBe(403);
    expect((await api('GET', '/api/admin/models', { token: user.token })).status).toBe(403);
    expect((await api('PUT', '/api/admin/models', { body: edit })).status).toBe(401);

    const bad = await api('PUT', '/api/admin/models', { token: adminToken, body: { provider: 'openai', model: 'x', maxOutputTokens: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringContaining('maxOutputTokens') });

    const priced = await api('PUT', '/api/admin/models', { token: adminToken, body: edit });
    expect(priced.status).toBe(200);
    expect(priced.body.model).toMatchObject({ id: 'gpt-4.1-mini', prices: edit.prices, contextWindow: 1047576 });

    // A new model, recommended as the cheap coder: it takes that pick from the seed's.
    const added = await api('PUT', '/api/admin/models', {
      token: adminToken,
      body: { provider: 'openai', model: 'gpt-new-small', name: 'GPT new small', maxOutputTokens: 4096, prices: { input: 0.1, output: 0.2, cachedInput: null, cacheWrite: null }, recommended: { coder: 'cheap' } },
    });
    expect(added.status).toBe(200);
    let view = (await api<ModelCatalogue>('GET', '/api/models?provider=openai', { token: user.token })).body;
    expect(modelsOf(view, 'openai').filter((m) => m.recommended.coder === 'cheap').map((m) => m.id)).toEqual(['gpt-new-small']);
    expect(modelsOf(view, 'openai').find((m) => m.id === 'gpt-5-mini')!.recommended).toEqual({ planner: 'cheap', architect: 'cheap', fixer: 'cheap' });

    // Retired: gone from every user's view and from the recommendations; the admin listing keeps it.
    expect((await api('PUT', '/api/admin/models', { token: adminToken, body: { provider: 'openai', model: 'gpt-new-small', retired: true } })).status).toBe(200);
    view = (await api<ModelCatalogue>('GET', '/api/models?provider=openai', { token: user.token })).body;
    expect(idsOf(view, 'openai')).not.toContain('gpt-new-small');
    expect(server.ctx.llm.catalogue.recommended('openai', 'coder', 'cheap')).toBeUndefined();
    const all = (await api<ModelCatalogue>('GET', '/api/admin/models', { token: adminToken })).body;
    expect(modelsOf(all, 'openai').find((m) => m.id === 'gpt-new-small')!.retiredAt).toEqual(expect.any(String));
    // Even a key whose provider lists it does not bring a retired model back.
    fake.setScript({ models: ['gpt-new-small', 'gpt-5'] });
    expect((await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: fakeSecret(), validate: true } })).status).toBe(201);
    expect(idsOf((await api<ModelCatalogue>('GET', '/api/models?provider=openai', { token: user.token })).body, 'openai')).toEqual(['gpt-5']);
  });

  test('the ledger bills with the catalogue\'s prices, and max_tokens is clamped to the model\'s output limit', async () => {
    const user = await registerUser(api);
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: fakeSecret() } });
    expect(key.status).toBe(201);
    const prices = { input: 7, output: 11, cachedInput: 3, cacheWrite: null };
    expect((await api('PUT', '/api/admin/models', { token: adminToken, body: { provider: 'openai', model: 'gpt-4o', prices } })).status).toBe(200);
    fake.setScript({ turns: [{ text: 'ok', usage: { input: 1000, output: 100, cacheRead: 400 } }] });
    const before = fake.requests.length;
    const ctx = { userId: user.userId, provider: 'openai' as const, keySource: 'byok' as const, keyId: key.body.id };
    await server.ctx.llm.gateway.complete({ model: 'gpt-4o', system: 's', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 1_000_000 }, ctx);
    // gpt-4o's output limit is 16384 (the seed's): the provider was asked for no more, and the
    // reservation held no more (a million would not fit the free plan's month).
    expect(fake.requests[before]!.body).toMatchObject({ model: 'gpt-4o', max_completion_tokens: 16384 });
    const usage = (await api('GET', '/api/usage', { token: user.token })).body;
    expect(usage.byModel).toEqual([expect.objectContaining({ model: 'gpt-4o', inputTokens: 1000, outputTokens: 100, cacheReadTokens: 400 })]);
    expect(usage.byModel[0].costMicroUsd).toBe(600 * 7 + 400 * 3 + 100 * 11);
    // A model the catalogue does not know: asked as is, no cost.
    fake.setScript({ turns: [{ text: 'ok', usage: { input: 10, output: 1 } }] });
    await server.ctx.llm.gateway.complete({ model: 'unknown-model', system: 's', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 100_000 }, ctx);
    expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'unknown-model', max_completion_tokens: 100_000 });
    const unknown = (await api('GET', '/api/usage', { token: user.token })).body.byModel.find((m: { model: string }) => m.model === 'unknown-model');
    expect(unknown).toMatchObject({ inputTokens: 10, outputTokens: 1, costMicroUsd: null });
  });

  test('a stored key\'s list is asked for again on request; only its owner may', async () => {
    const user = await registerUser(api);
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'anthropic', apiKey: fakeSecret('sk-ant-') } });
    expect(key.status).toBe(201);
    // Stored without the check: the catalogue's Anthropic models are offered.
    expect(idsOf((await api<ModelCatalogue>('GET', '/api/models?provider=anthropic', { token: user.token })).body, 'anthropic')).toContain('claude-opus-4-1');
    fake.setScript({ models: ['claude-sonnet-4-5', 'claude-haiku-4-5'] });
    const other = await registerUser(api);
    expect((await api('POST', `/api/user/api-keys/${key.body.id}/models`, { token: other.token })).status).toBe(404);
    const listed = await api('POST', `/api/user/api-keys/${key.body.id}/models`, { token: user.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ models: [{ id: 'claude-sonnet-4-5' }, { id: 'claude-haiku-4-5' }] });
    const view = (await api<ModelCatalogue>('GET', '/api/models?provider=anthropic', { token: user.token })).body;
    expect(idsOf(view, 'anthropic').sort()).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-5']);
    expect(modelsOf(view, 'anthropic').find((m) => m.id === 'claude-haiku-4-5')).toMatchObject({ source: 'catalogue', prices: { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 }, keyIds: [key.body.id] });
  });

  test('operators retire what the provider no longer lists (with a platform key), and offer it again once it does', async () => {
    const user = await registerUser(api);
    const refresh = (token: string, provider: string) => api('POST', '/api/admin/models/refresh', { token, body: { provider } });
    expect((await refresh(user.token, 'groq')).status).toBe(403);
    expect((await refresh(adminToken, 'openai-compatible')).status).toBe(400);
    const noKey = await refresh(adminToken, 'openai');
    expect(noKey.status).toBe(503);
    expect(noKey.body.error.code).toBe('E_NO_PLATFORM_KEY');

    fake.setScript({ models: ['openai/gpt-oss-120b', 'llama-3.1-8b-instant', 'brand-new-model'] });
    const res = await refresh(adminToken, 'groq');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ listed: 3, retired: ['llama-3.3-70b-versatile'], restored: [] });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: '/openai/v1/models', apiKey: PLATFORM_GROQ_KEY });
    expect(idsOf((await api<ModelCatalogue>('GET', '/api/models?provider=groq', { token: user.token })).body, 'groq').sort()).toEqual(['llama-3.1-8b-instant', 'openai/gpt-oss-120b']);
    const all = (await api<ModelCatalogue>('GET', '/api/admin/models', { token: adminToken })).body;
    expect(modelsOf(all, 'groq').find((m) => m.id === 'llama-3.3-70b-versatile')!.retiredAt).toEqual(expect.any(String));
    // Its price stays for calls already made; the clamp too.
    expect(server.ctx.llm.catalogue.price('groq', 'llama-3.3-70b-versatile')).toMatchObject({ input: 0.59 });

    fake.setScript({ models: ['openai/gpt-oss-120b', 'llama-3.1-8b-instant', 'llama-3.3-70b-versatile'] });
    expect((await refresh(adminToken, 'groq')).body).toEqual({ listed: 3, retired: [], restored: ['llama-3.3-70b-versatile'] });
    expect(idsOf((await api<ModelCatalogue>('GET', '/api/models?provider=groq', { token: user.token })).body, 'groq')).toContain('llama-3.3-70b-versatile');
    // The platform key never shows in an answer or a log line.
    expect(server.logs.join('')).not.toContain(PLATFORM_GROQ_KEY);
  });
});
