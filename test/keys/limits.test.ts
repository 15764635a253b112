import { systemClock } from '../../core/clock.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { createLogger } from '../../core/logger.js';
import { ModelCatalogue } from '../../llm/model-catalogue.js';
import { UsageLedger } from '../../usage/usage-ledger.js';
import { estimateWorstCaseTokens } from '../../usage/estimate.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { createUser, fakeSecret } from './fixtures.js';

describe.each(DATABASE_KINDS)('usage ledger and monthly limits on %s', (kind) => {
  describe('reservations', () => {
    let t: TestDatabase;
    let catalogue: ModelCatalogue;
    beforeAll(async () => {
      t = await createTestDatabase(kind);
      catalogue = await ModelCatalogue.open({ db: t.db, clock: systemClock, logger: createLogger({ level: 'silent' }) });
    });
    afterAll(async () => {
      await catalogue?.close();
      await t.cleanup();
    });

    test('50 concurrent reservations against a limit that fits 10: exactly 10 succeed, the limit is never exceeded', async () => {
      await t.db.query("UPDATE plans SET monthly_token_limit = 1000 WHERE id = 'starter'");
      const userId = await createUser(t.db, 'starter');
      const ledger = new UsageLedger(t.db, catalogue, systemClock);
      const base = { userId, provider: 'openai', model: 'gpt-4o-mini', keySource: 'byok' as const, keyRef: null, tokens: 100 };
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => ledger.reserve(base)));
      const ok = outcomes.filter((o) => o.status === 'fulfilled');
      expect(ok).toHaveLength(10);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'E_LIMIT', message: expect.stringMatching(/^limit_exceeded: .*monthly token limit of 1000/) });
      }
      const counters = await t.db.query<{ reserved_tokens: string; used_tokens: string }>('SELECT reserved_tokens, used_tokens FROM usage_months WHERE user_id = $1', [userId]);
      expect(Number(counters.rows[0]!.reserved_tokens)).toBe(1000);
      const rows = await t.db.query<{ n: number; s: string }>("SELECT count(*)::int AS n, sum(reserved_tokens)::text AS s FROM usage_ledger WHERE user_id = $1 AND status = 'reserved'", [userId]);
      expect(rows.rows[0]).toEqual({ n: 10, s: '1000' });

      // Settling releases the unused part: 10 calls that used 30 tokens each leave 700 free.
      for (const o of ok) await ledger.settle((o as PromiseFulfilledResult<Awaited<ReturnType<typeof ledger.reserve>>>).value, { inputTokens: 20, outputTokens: 10 });
      const summary = await ledger.summary(userId);
      expect(summary).toMatchObject({ usedTokens: 300, reservedTokens: 0, remainingTokens: 700 });
      expect(summary.byModel[0]).toMatchObject({ calls: 10, inputTokens: 200, outputTokens: 100, costMicroUsd: 10 * Math.round(20 * 0.15 + 10 * 0.6) });
      // Settling twice changes nothing.
      await ledger.settle((ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof ledger.reserve>>>).value, { inputTokens: 999, outputTokens: 999 });
      expect((await ledger.summary(userId)).usedTokens).toBe(300);
      // 7 more fit, the 8th does not.
      const more = await Promise.allSettled(Array.from({ length: 8 }, () => ledger.reserve(base)));
      expect(more.filter((o) => o.status === 'fulfilled')).toHaveLength(7);
    });

    test('a run costs what its settled calls cost in the ledger (tokens and micro-USD)', async () => {
      const userId = await createUser(t.db, 'unlimited');
      const project = await new ProjectsRepo(t.db).create({ userId, name: 'p', prompt: 'p' });
      const run = await t.db.query<{ id: string }>(
        "INSERT INTO runs (project_id, user_id, kind, prompt, provider, model, key_source) VALUES ($1, $2, 'generate', 'p', 'openai', 'gpt-4o-mini', 'byok') RETURNING id",
        [project.id, userId],
      );
      const runId = run.rows[0]!.id;
      const ledger = new UsageLedger(t.db, catalogue, systemClock);
      const call = { userId, provider: 'openai', model: 'gpt-4o-mini', keySource: 'byok' as const, keyRef: null, tokens: 5000, runId };
      await ledger.settle(await ledger.reserve(call), { inputTokens: 1000, outputTokens: 200 }, null, { runId });
      await ledger.settle(await ledger.reserve(call), { inputTokens: 3000, outputTokens: 100 }, null, { runId });
      const billed = await t.db.query<{ c: string }>('SELECT sum(cost_micro_usd)::text AS c FROM usage_ledger WHERE run_id = $1', [runId]);
      const row = await t.db.query<{ input_tokens: string; output_tokens: string; cost_micro_usd: string }>('SELECT input_tokens, output_tokens, cost_micro_usd FROM runs WHERE id = $1', [runId]);
      const price = catalogue.price('openai', 'gpt-4o-mini')!;
      expect(Number(billed.rows[0]!.c)).toBe(Math.round(1000 * price.input + 200 * price.output) + Math.round(3000 * price.input + 100 * price.output));
      expect([Number(row.rows[0]!.input_tokens), Number(row.rows[0]!.output_tokens), Number(row.rows[0]!.cost_micro_usd)]).toEqual([4000, 300, Number(billed.rows[0]!.c)]);
      expect(Number(row.rows[0]!.cost_micro_usd)).toBeGreaterThan(0);
    });

    test('an unlimited plan (NULL limit) always reserves', async () => {
      const userId = await createUser(t.db, 'unlimited');
      const ledger = new UsageLedger(t.db, catalogue, systemClock);
      await expect(ledger.reserve({ userId, provider: 'openai', model: 'm', keySource: 'platform', keyRef: null, tokens: 10 ** 12 })).resolves.toMatchObject({ tokens: 10 ** 12 });
    });
  });

  describe('through the gateway with the real SDKs and the fake server', () => {
    let fake: FakeLlm;
    let server: TestServer;
    beforeAll(async () => {
      fake = await startFakeLlm();
      server = await startTestServer(kind, { SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai, SAMOKODER_ANTHROPIC_BASE_URL: fake.baseUrls.anthropic, SAMOKODER_LLM_MAX_RETRIES: 0 });
    });
    afterAll(async () => {
      await server?.close();
      await fake?.close();
    });

    test('settled totals equal what the provider reported; a call that does not fit is refused before anything is sent', async () => {
      const api = apiClient(server.url);
      const user = await registerUser(api);
      const key = fakeSecret();
      expect((await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'anthropic', apiKey: key } })).status).toBe(201);
      const request = { model: 'claude-haiku-4-5', system: 'terse', messages: [{ role: 'user' as const, content: 'hello' }], maxOutputTokens: 400 };
      const worst = estimateWorstCaseTokens(request);
      await server.ctx.db.query("UPDATE plans SET monthly_token_limit = $1 WHERE id = 'free'", [worst * 3]);
      const reported = [
        { input: 111, output: 22, cacheRead: 50 },
        { input: 90, output: 17 },
        { input: 5, output: 1 },
      ];
      fake.setScript({ turns: reported.map((usage) => ({ text: 'ok', usage })) });
      const ctx = { userId: user.userId, provider: 'anthropic' as const, keySource: 'byok' as const };
      const results = await Promise.all(reported.map(() => server.ctx.llm.gateway.complete(request, ctx)));
      // Anthropic reports input without cache reads; the port counts them in.
      const expectedInput = reported.reduce((s, r) => s + r.input + (r.cacheRead ?? 0), 0);
      const expectedOutput = reported.reduce((s, r) => s + r.output, 0);
      expect(results.reduce((s, r) => s + r.usage.inputTokens, 0)).toBe(expectedInput);

      const usage = (await api('GET', '/api/usage', { token: user.token })).body;
      expect(usage).toMatchObject({ usedTokens: expectedInput + expectedOutput, reservedTokens: 0, remainingTokens: worst * 3 - expectedInput - expectedOutput });
      expect(usage.byModel).toEqual([
        expect.objectContaining({ provider: 'anthropic', model: 'claude-haiku-4-5', calls: 3, inputTokens: expectedInput, outputTokens: expectedOutput, cacheReadTokens: 50, pending: 0 }),
      ]);
      const price = server.ctx.llm.catalogue.price('anthropic', 'claude-haiku-4-5')!;
      expect(usage.byModel[0].costMicroUsd).toBe(
        Math.round((111 + 0) * price.input + 22 * price.output + 50 * price.cachedInput!) + Math.round(90 * price.input + 17 * price.output) + Math.round(5 * price.input + 1 * price.output),
      );

      // Three worst cases do not fit any more: refused with E_LIMIT, nothing sent.
      const sent = fake.requests.length;
      await expect(server.ctx.llm.gateway.complete({ ...request, maxOutputTokens: worst * 3 }, ctx)).rejects.toMatchObject({ code: 'E_LIMIT' });
      expect(fake.requests.length).toBe(sent);
      const ledgerRows = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_ledger WHERE user_id = $1', [user.userId]);
      expect(ledgerRows.rows[0]!.n).toBe(3);
    });
  });
});
