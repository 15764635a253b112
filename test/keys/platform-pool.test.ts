import { PlatformKeyPool } from '../../keys/platform-pool.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { signSupabaseToken } from '../helpers/supabase.js';
import { fakeSecret } from './fixtures.js';

const request = { model: 'fake-model', system: 's', messages: [{ role: 'user' as const, content: 'hi' }], maxOutputTokens: 20 };

describe.each(DATABASE_KINDS)('platform key pool on %s', (kind) => {
  let fake: FakeLlm;
  let server: TestServer;
  const [k1, k2, k3] = [fakeSecret('sk-'), fakeSecret('sk-'), fakeSecret('sk-')];
  const [dry, funded] = [fakeSecret('sk-or-'), fakeSecret('sk-or-')];
  const adminEmail = `admin-${Date.now()}@example.com`;
  const SUPABASE_SECRET = 'platform-pool-test-supabase-secret-32-chars';

  beforeAll(async () => {
    fake = await startFakeLlm();
    server = await startTestServer(kind, {
      SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
      SAMOKODER_PLATFORM_KEYS_OPENAI: `${k1},${k2},${k3}`,
      SAMOKODER_OPENROUTER_BASE_URL: fake.baseUrls.openrouter,
      SAMOKODER_PLATFORM_KEYS_OPENROUTER: `${dry},${funded}`,
      SAMOKODER_ADMIN_EMAILS: adminEmail,
      SUPABASE_JWT_SECRET: SUPABASE_SECRET,
      SAMOKODER_LLM_MAX_RETRIES: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  test('a 429 key cools down and calls spread over the other two; a 401 key is disabled; counters survive a restart', async () => {
    const api = apiClient(server.url);
    const user = await registerUser(api);
    const ctx = { userId: user.userId, provider: 'openai' as const, keySource: 'platform' as const };
    const gateway = server.ctx.llm.gateway;
    // The free plan has no platform keys.
    await expect(gateway.complete(request, ctx)).rejects.toMatchObject({ code: 'E_LIMIT', message: expect.stringContaining('platform keys') });
    await server.ctx.db.query("UPDATE users SET plan_id = 'pro' WHERE id = $1", [user.userId]);

    fake.setScript({ faultsByKey: { [k2]: { status: 429, retryAfter: 120 } } });
    // Sequential first (so the 429 arrives before k2 could be leased again), then concurrent.
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await gateway.complete(request, ctx));
    results.push(...(await Promise.all(Array.from({ length: 8 }, () => gateway.complete(request, ctx)))));
    for (const r of results) expect(r.finishReason).toBe('stop');
    const used = (k: string) => fake.requests.filter((r) => r.apiKey === k).length;
    expect(used(k2)).toBe(1);
    expect(used(k1) + used(k3)).toBe(12);
    expect(Math.abs(used(k1) - used(k3))).toBeLessThanOrEqual(2);

    fake.setScript({ faultsByKey: { [k2]: { status: 429, retryAfter: 120 }, [k3]: { status: 401, message: `Incorrect API key provided: ${k3}` } } });
    for (let i = 0; i < 4; i++) await gateway.complete(request, ctx);
    expect(used(k3)).toBeLessThanOrEqual(used(k1) + 1); // k3 was tried at most once more…
    const k3Calls = used(k3);
    for (let i = 0; i < 4; i++) await gateway.complete(request, ctx);
    expect(used(k3)).toBe(k3Calls); // …and never again after its 401.

    // The OpenRouter keys of the next test are in the pool too.
    const openai = <T extends { provider: string }>(states: T[]): T[] => states.filter((x) => x.provider === 'openai');
    const state = openai(await server.ctx.llm.keyPool.state());
    const byStatus = Object.fromEntries(state.map((s) => [s.status, s]));
    expect(byStatus.disabled).toMatchObject({ masked: `sk-…${k3.slice(-4)}`, disabledReason: expect.stringContaining('401') });
    expect(byStatus.cooling_down).toMatchObject({ masked: `sk-…${k2.slice(-4)}`, errorCount: 1, requestCount: 1 });
    expect(byStatus.active).toMatchObject({ masked: `sk-…${k1.slice(-4)}`, errorCount: 0, requestCount: used(k1) });

    // A new pool on the same database (a restart) sees the counters, the cooldown and the disablement.
    const restarted = await PlatformKeyPool.open(server.ctx.db, server.config.platformKeys, server.ctx.clock, server.ctx.logger);
    const after = openai(await restarted.state());
    expect(after.map(({ id, requestCount, errorCount, status }) => ({ id, requestCount, errorCount, status }))).toEqual(
      state.map(({ id, requestCount, errorCount, status }) => ({ id, requestCount, errorCount, status })),
    );
    const lease = await restarted.lease('openai');
    expect(lease.apiKey).toBe(k1);
    await lease.release({ ok: true });

    // Usage of platform calls is on the ledger with the key's fingerprint, never the key.
    const ledger = await server.ctx.db.query<{ key_source: string; key_ref: string }>('SELECT key_source, key_ref FROM usage_ledger WHERE user_id = $1', [user.userId]);
    expect(ledger.rows.length).toBe(20);
    for (const r of ledger.rows) expect(state.map((s) => s.id)).toContain(r.key_ref);

    // The admin route shows the state, masked; others are refused.
    expect((await api('GET', '/api/admin/platform-keys', { token: user.token })).status).toBe(403);
    // An admin is an identity someone verified: here a Supabase token for a listed, verified email.
    const adminToken = await signSupabaseToken(SUPABASE_SECRET, { sub: 'platform-pool-admin', email: adminEmail, email_verified: true });
    const res = await api('GET', '/api/admin/platform-keys', { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.body.keys.filter((k: { provider: string }) => k.provider === 'openai')).toHaveLength(3);
    for (const k of [k1, k2, k3]) {
      expect(res.text).not.toContain(k);
      expect(server.logs.join('\n')).not.toContain(k);
    }
    fake.setScript({});
  });

  test('a key whose account is out of credits (402) is tried once: the call moves to the next key and the dry one rests', async () => {
    const api = apiClient(server.url);
    const user = await registerUser(api);
    await server.ctx.db.query("UPDATE users SET plan_id = 'pro' WHERE id = $1", [user.userId]);
    const ctx = { userId: user.userId, provider: 'openrouter' as const, keySource: 'platform' as const };
    fake.setScript({ faultsByKey: { [dry]: { status: 402, message: 'Insufficient credits' } } });
    for (let i = 0; i < 6; i++) expect((await server.ctx.llm.gateway.complete(request, ctx)).finishReason).toBe('stop');
    const used = (k: string) => fake.requests.filter((r) => r.apiKey === k).length;
    expect(used(dry)).toBe(1);
    expect(used(funded)).toBe(6);
    const state = (await server.ctx.llm.keyPool.state()).filter((s) => s.provider === 'openrouter');
    expect(state.find((s) => s.masked.endsWith(dry.slice(-4)))).toMatchObject({ status: 'cooling_down', errorCount: 1, lastError: expect.stringContaining('E_PROVIDER_QUOTA') });
    fake.setScript({});
  });
});
