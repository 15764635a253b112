import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/port.js';
import { StepsRepo } from '../../db/repos/steps.js';
import type { FakeTurn } from '../../scripts/fake-llm/server.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import {
  archTurn, bareArchTurn, catalogueViolations, finishTurn, INLINE_TEST, newProjectFixture, planTurn, projectEvents, requestsOf, script, startHarness,
  startRun, waitForRun, writeTurn, type Harness,
} from './harness.js';

type Api = ReturnType<typeof apiClient>;

/** A registered user (on `planId`) with a project and a BYOK key of each given provider, all through the API. */
async function apiTenant(h: Harness, api: Api, planId = 'unlimited'): Promise<{ token: string; userId: string; projectId: string; keys: Record<string, { id: string; apiKey: string }> }> {
  const user = await registerUser(api);
  await h.server.ctx.db.query('UPDATE users SET plan_id = $2 WHERE id = $1', [user.userId, planId]);
  const keys: Record<string, { id: string; apiKey: string }> = {};
  for (const provider of ['anthropic', 'openai-compatible'] as const) {
    const apiKey = fakeSecret();
    const res = await api('POST', '/api/user/api-keys', {
      token: user.token,
      body: { provider, apiKey, ...(provider === 'openai-compatible' ? { baseUrl: h.fake.baseUrls['openai-compatible'] } : {}) },
    });
    expect(res.status).toBe(201);
    keys[provider] = { id: res.body.id, apiKey };
  }
  const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'Build a sum function with a test' } });
  expect(project.status).toBe(201);
  return { token: user.token, userId: user.userId, projectId: project.body.project.id, keys };
}

/** Turns answered only for requests made with `apiKey`. */
const keyed = (apiKey: string, turns: FakeTurn[]): FakeTurn[] => turns.map((t) => ({ ...t, match: { apiKey } }));

async function testPlan(db: Queryable, monthlyTokenLimit: number): Promise<string> {
  const id = `t-${randomUUID().slice(0, 8)}`;
  await db.query('INSERT INTO plans (id, name, monthly_token_limit) VALUES ($1, $2, $3)', [id, `Test ${id}`, monthlyTokenLimit]);
  return id;
}

const ledgerRows = async (db: Queryable, runId: string) =>
  (
    await db.query<{ provider: string; model: string; input_tokens: string; cache_read_tokens: string; cost_micro_usd: string | null }>(
      'SELECT provider, model, input_tokens, cache_read_tokens, cost_micro_usd FROM usage_ledger WHERE run_id = $1 ORDER BY created_at',
      [runId],
    )
  ).rows;

describe.each(DATABASE_KINDS)('budgets, estimates, models per role, prompt caching and AGENTS.md on %s (fake LLM through the SDKs)', (kind) => {
  let h: Harness;
  let api: Api;
  beforeAll(async () => {
    h = await startHarness(kind);
    api = apiClient(h.server.url);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    expect((await catalogueViolations(h.server.ctx.db)).violations).toEqual([]);
  });

  test('a cost budget stops the run budget_exceeded after the call that crossed it; cached input tokens are priced at the cached rate and the live meter carries the cost', async () => {
    const db = h.server.ctx.db;
    const t = await apiTenant(h, api);
    const anthropic = t.keys.anthropic!;
    // claude-haiku-4-5: $1/M input, $0.10/M cached input, $5/M output. 100 fresh + 1,000 cached
    // input and 20 output tokens: 100 + 100 + 100 = 300 micro-USD, over the 200 of the budget.
    h.fake.setScript({ turns: keyed(anthropic.apiKey, [{ ...planTurn([{ id: 't1', title: 'x', description: 'y' }]), usage: { input: 100, output: 20, cacheRead: 1000 } }, archTurn()]) });
    const gen = await api('POST', `/api/projects/${t.projectId}/generate`, {
      token: t.token,
      body: { provider: 'anthropic', model: 'claude-haiku-4-5', keyId: anthropic.id, budget: { maxCostUsd: 0.0002 } },
    });
    expect(gen.status).toBe(202);
    expect(gen.body.run.budget).toEqual({ maxTokens: null, maxCostMicroUsd: 200 });
    const done = await waitForRun(db, gen.body.run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'budget_exceeded', costMicroUsd: 300, inputTokens: 1100, outputTokens: 20 });

    // Nothing was sent after the crossing call.
    const sent = h.fake.requests.filter((r) => r.apiKey === anthropic.apiKey);
    expect(sent).toHaveLength(1);
    // The stable prefix is marked for Anthropic's prompt cache: the system prompt and the last tool.
    const body = sent[0]!.body as { system: unknown; tools: { name: string; cache_control?: unknown }[] };
    expect(body.system).toEqual([expect.objectContaining({ type: 'text', cache_control: { type: 'ephemeral' } })]);
    expect(body.tools.at(-1)).toMatchObject({ name: 'submit_plan', cache_control: { type: 'ephemeral' } });

    const rows = await ledgerRows(db, done.id);
    expect(rows.map((r) => [r.provider, r.model, Number(r.input_tokens), Number(r.cache_read_tokens), Number(r.cost_micro_usd)])).toEqual([['anthropic', 'claude-haiku-4-5', 1100, 1000, 300]]);

    const events = (await projectEvents(db, { projectId: t.projectId, userId: t.userId } as never)).filter((e) => e.runId === done.id);
    expect(events.find((e) => e.type === 'llm.usage')!.data).toEqual({ stepSeq: 1, inputTokens: 1100, outputTokens: 20, cacheReadTokens: 1000, model: 'claude-haiku-4-5', runTokens: 1120, runCostMicroUsd: 300 });
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'failed', reason: 'budget_exceeded', message: expect.stringContaining('budget.maxCostUsd') } });
    const rest = await api('GET', `/api/projects/${t.projectId}/runs/${done.id}`, { token: t.token });
    expect(rest.body.run).toMatchObject({ reason: 'budget_exceeded', usage: { costMicroUsd: 300 }, budget: { maxCostMicroUsd: 200 } });
  });

  test('a token budget stops the run once the ledger shows it crossed; budgets are validated, a token budget against the plan', async () => {
    const db = h.server.ctx.db;
    const t = await apiTenant(h, api, await testPlan(db, 100_000));
    const generate = (budget: unknown) =>
      api('POST', `/api/projects/${t.projectId}/generate`, { token: t.token, body: { provider: 'anthropic', model: 'fake-model', keyId: t.keys.anthropic!.id, budget } });
    for (const bad of [{ maxTokens: 0 }, { maxTokens: 1.5 }, { maxCostUsd: -1 }, { maxCostUsd: 'lots' }, { tokens: 10 }, 'cheap']) {
      const res = await generate(bad);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('E_VALIDATION');
      expect(res.body.error.message).toMatch(/budget/);
    }
    const tooHigh = await generate({ maxTokens: 100_001 });
    expect(tooHigh.status).toBe(400);
    expect(tooHigh.body.error).toMatchObject({ code: 'E_VALIDATION', message: expect.stringContaining("budget.maxTokens: must be at most 100000, the Test t-") });
    expect(await db.query('SELECT 1 FROM runs WHERE project_id = $1', [t.projectId]).then((r) => r.rows)).toHaveLength(0);

    // Each scripted call uses 120 tokens: the planner's leaves the run under 200, the architect's takes it over.
    h.fake.setScript({ turns: keyed(t.keys.anthropic!.apiKey, [planTurn([{ id: 't1', title: 'x', description: 'y' }]), archTurn(), finishTurn()]) });
    const gen = await generate({ maxTokens: 200 });
    expect(gen.status).toBe(202);
    const done = await waitForRun(db, gen.body.run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'budget_exceeded', inputTokens: 200, outputTokens: 40 });
    expect(h.fake.requests.filter((r) => r.apiKey === t.keys.anthropic!.apiKey)).toHaveLength(2);
    const steps = await new StepsRepo(db).list(done.id);
    expect(steps.map((s) => [s.kind, s.status])).toEqual([['planner', 'succeeded'], ['architect', 'failed']]);
    expect(steps[1]!.error).toMatch(/240 tokens; its budget is 200 tokens/);
  });

  test('models per role: each role calls its own provider and model with its own key; the others use the run\'s', async () => {
    const db = h.server.ctx.db;
    const t = await apiTenant(h, api);
    const anthropic = t.keys.anthropic!;
    const compat = t.keys['openai-compatible']!;
    h.fake.setScript({
      turns: [
        ...keyed(anthropic.apiKey, [planTurn([{ id: 't1', title: 'Notes', description: 'Write notes.txt' }]), bareArchTurn()]),
        ...keyed(compat.apiKey, [writeTurn('notes.txt', 'hello'), finishTurn()]),
      ],
    });
    const bad = await api('POST', `/api/projects/${t.projectId}/generate`, {
      token: t.token,
      body: { provider: 'anthropic', model: 'fake-model', models: { verify: { model: 'x' } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('E_VALIDATION');
    const gen = await api('POST', `/api/projects/${t.projectId}/generate`, {
      token: t.token,
      body: { provider: 'anthropic', model: 'fake-model', keyId: anthropic.id, models: { planner: { model: 'fake-planner' }, coder: { provider: 'openai-compatible', model: 'fake-coder' } } },
    });
    expect(gen.status).toBe(202);
    expect(gen.body.run.models).toEqual({ planner: { provider: 'anthropic', model: 'fake-planner' }, coder: { provider: 'openai-compatible', model: 'fake-coder' } });
    const done = await waitForRun(db, gen.body.run.id);
    expect(done.status).toBe('succeeded');

    const sent = h.fake.requests.filter((r) => r.apiKey === anthropic.apiKey || r.apiKey === compat.apiKey);
    const calls = sent.map((r) => [r.provider, (r.body as { model: string }).model, (r.body as { tools?: { name?: string; function?: { name: string } }[] }).tools?.map((x) => x.function?.name ?? x.name).includes('submit_plan') ? 'planner' : '']);
    expect(calls).toEqual([
      ['anthropic', 'fake-planner', 'planner'],
      ['anthropic', 'fake-model', ''],
      ['openai-compatible', 'fake-coder', ''],
      ['openai-compatible', 'fake-coder', ''],
    ]);
    // The ledger records which model each call was.
    expect((await ledgerRows(db, done.id)).map((r) => `${r.provider}/${r.model}`)).toEqual([
      'anthropic/fake-planner', 'anthropic/fake-model', 'openai-compatible/fake-coder', 'openai-compatible/fake-coder',
    ]);
  });

  test("the project's AGENTS.md reaches every agent's prompt, cut at its cap", async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const ws = await fx.workspace();
    const rules = `# Conventions\nRULES-START: tabs, never semicolons.\n${'x'.repeat(7_000)}\nRULES-END`;
    await ws.files.writeFile('AGENTS.md', rules);
    await ws.history.commitAll('the project rules', {});
    script(h, fx, [
      planTurn([{ id: 't1', title: 'Notes', description: 'Finish' }]),
      archTurn(INLINE_TEST, '', [{ path: 'notes.txt', purpose: 'notes' }]),
      finishTurn('nothing to write'),
      // Verify misses notes.txt: the fixer writes it.
      writeTurn('notes.txt', 'hi'),
      finishTurn('wrote it'),
    ]);
    const run = await startRun(h, fx, 'add notes', 'generate');
    expect(await waitForRun(db, run.id, 120_000)).toMatchObject({ status: 'succeeded' });
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.map((s) => s.kind)).toEqual(['planner', 'architect', 'coder', 'verify', 'fixer', 'verify']);
    const systems = requestsOf(h, fx).map((r) => (r.body as { messages: { role: string; content: string }[] }).messages.find((m) => m.role === 'system')!.content);
    expect(systems).toHaveLength(5);
    for (const s of systems) {
      expect(s).toContain('## Project rules (AGENTS.md in the workspace; they bind your work)');
      expect(s).toContain('RULES-START: tabs, never semicolons.');
      expect(s).not.toContain('RULES-END');
    }
    expect(new Set(systems.map((s) => s.split('\n')[0]))).toEqual(new Set([
      'You are the planner of Samokoder, a service that turns a request into a working, tested project.',
      'You are the architect of Samokoder. Given the plan, choose the stack and the file layout, and',
      "You are the coder of Samokoder. You implement one task of the plan in the project's workspace,",
      'You are the fixer of Samokoder. Verify failed: the install or test command failed, a file the',
    ]));
  });

  test('POST /api/projects/:id/estimate: a token and USD range, null cost for an unpriced model; bad input is 400, another user\'s project 404', async () => {
    const t = await apiTenant(h, api);
    const other = await apiTenant(h, api);
    const estimate = (body: unknown, projectId = t.projectId, token = t.token) => api('POST', `/api/projects/${projectId}/estimate`, { token, body });

    const priced = await estimate({ prompt: 'A todo app with tests', provider: 'openai', model: 'gpt-4o-mini', models: { coder: { model: 'gpt-4.1' } } });
    expect(priced.status).toBe(200);
    const { tokens, costUsd, basis } = priced.body;
    expect(tokens.low).toBeGreaterThan(0);
    expect(tokens.high).toBeGreaterThan(tokens.low);
    expect(costUsd.low).toBeGreaterThan(0);
    expect(costUsd.high).toBeGreaterThan(costUsd.low);
    expect(basis).toMatchObject({ kind: 'generate', promptTokens: 6, projectTokens: 0, unpricedModels: [] });
    // A stronger coder costs more than the same run on the cheap model alone.
    const cheap = await estimate({ prompt: 'A todo app with tests', provider: 'openai', model: 'gpt-4o-mini' });
    expect(cheap.body.tokens).toEqual(tokens);
    expect(cheap.body.costUsd.high).toBeLessThan(costUsd.high);

    const unpriced = await estimate({ prompt: 'A todo app', provider: 'openai-compatible', model: 'qwen2.5-coder:7b' });
    expect(unpriced.status).toBe(200);
    expect(unpriced.body).toMatchObject({ costUsd: null, basis: { unpricedModels: ['openai-compatible/qwen2.5-coder:7b'] } });

    for (const bad of [
      { provider: 'openai', model: 'gpt-4o-mini' },
      { prompt: '', provider: 'openai', model: 'gpt-4o-mini' },
      { prompt: 'x', provider: 'acme', model: 'gpt-4o-mini' },
      { prompt: 'x', provider: 'openai', model: 'has space' },
      { prompt: 'x', provider: 'openai', model: 'gpt-4o-mini', models: { reviewer: { model: 'm' } } },
    ]) {
      const res = await estimate(bad);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('E_VALIDATION');
    }
    expect((await estimate({ prompt: 'x', provider: 'openai', model: 'gpt-4o-mini' }, other.projectId)).status).toBe(404);
  });
});
