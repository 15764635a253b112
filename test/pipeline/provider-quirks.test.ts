import type { FakeTurn } from '../../scripts/fake-llm/server.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import {
  archTurn, bareArchTurn, bodyText, finishTurn, happyTurns, newProjectFixture, PACKAGE_JSON, planTurn, projectEvents, requestsOf, script, startHarness, startRun,
  SUM_OK, SUM_TEST, TASKS, waitForRun, writeTurn, type Harness, type ProjectFixture,
} from './harness.js';

// Whole runs against behaviours of real models and proxies (docs/llm.md, "Provider quirks"):
// real server, worker, sandbox, git and SDKs; only the model is the scripted fake.
describe('runs survive provider quirks (postgres, fake LLM through the SDKs)', () => {
  let h: Harness;
  beforeAll(async () => {
    // Retries on, as in production: a quota error must still be sent once. The stop-loss is low
    // enough that a run billed at estimates trips it, and far above what the scripted usage sums to.
    h = await startHarness('postgres', { SAMOKODER_LLM_MAX_RETRIES: 3, SAMOKODER_RUN_TOKEN_BUDGET: 12_000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  test('a provider that reports no usage is billed at estimates: marked estimated, shown in the run and /api/usage, and the token stop-loss trips', async () => {
    const db = h.server.ctx.db;
    const api = apiClient(h.server.url);
    const user = await registerUser(api);
    const apiKey = fakeSecret();
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: h.fake.baseUrls['openai-compatible'] } });
    expect(key.status).toBe(201);
    const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'Build a sum function with a test' } });
    const projectId: string = project.body.project.id;
    // Big files, so the estimates add up fast; no turn carries usage.
    const big = `// ${'x'.repeat(70)}\n`.repeat(400);
    const noUsage = (t: FakeTurn): FakeTurn => ({ ...t, usage: undefined, omitUsage: true });
    script(h, { apiKey } as ProjectFixture, [planTurn(TASKS), bareArchTurn(), ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => writeTurn(`${n}.js`, big))].map(noUsage));
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: key.body.id } });
    expect(gen.status).toBe(202);
    const done = await waitForRun(db, gen.body.run.id, 300_000);
    expect(done).toMatchObject({ status: 'failed', reason: 'token_budget' });

    const rows = (await db.query<{ input_tokens: string; output_tokens: string; estimated: boolean }>(
      'SELECT input_tokens, output_tokens, estimated FROM usage_ledger WHERE run_id = $1 ORDER BY created_at', [done.id],
    )).rows;
    const calls = h.fake.requests.filter((r) => r.apiKey === apiKey);
    expect(rows).toHaveLength(calls.length);
    expect(rows.every((r) => r.estimated && Number(r.input_tokens) > 0 && Number(r.output_tokens) > 0)).toBe(true);
    // Near what the provider would bill (the fake's count: a token per 4 characters of the body).
    const estimated = rows.reduce((n, r) => n + Number(r.input_tokens) + Number(r.output_tokens), 0);
    const billed = calls.reduce((n, r) => n + r.usage!.input + r.usage!.output, 0);
    expect(estimated).toBeGreaterThan(billed * 0.4);
    expect(estimated).toBeLessThan(billed * 2);
    expect(done.inputTokens + done.outputTokens).toBe(estimated);
    expect(done.inputTokens + done.outputTokens).toBeGreaterThanOrEqual(12_000);

    const run = await api('GET', `/api/projects/${projectId}/runs/${done.id}`, { token: user.token });
    expect(run.body.run.usage).toMatchObject({ estimatedCalls: rows.length, inputTokens: done.inputTokens, outputTokens: done.outputTokens });
    const usage = await api('GET', '/api/usage', { token: user.token });
    expect(usage.body).toMatchObject({ usedTokens: estimated, estimatedCalls: rows.length, byModel: [{ model: 'fake-model', estimatedCalls: rows.length }] });
    const usageEvents = (await projectEvents(db, { projectId, userId: user.userId } as ProjectFixture)).filter((e) => e.type === 'llm.usage');
    expect(usageEvents).toHaveLength(rows.length);
    expect(usageEvents.every((e) => (e.data as { estimated?: boolean }).estimated === true)).toBe(true);
  });

  test('HTTP 200 with {"error":{"code":402}} in the stream: failed/provider_quota with the provider\'s message, one request, no retry storm', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [{ errorInOkBody: true, status: 402, errorMessage: 'Insufficient credits. Add more at https://example.test/credits' }, ...happyTurns()]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'provider_quota' });
    expect(requestsOf(h, fx)).toHaveLength(1);
    const finished = (await projectEvents(db, fx)).at(-1)!;
    expect(finished).toMatchObject({ type: 'run.finished', data: { status: 'failed', reason: 'provider_quota' } });
    const message = (finished.data as { message: string }).message;
    expect(message).toContain('Insufficient credits');
    expect(message).toContain('Top up the provider account');
    expect(message).not.toContain(fx.apiKey);
  });

  test('every answer cut off at the output limit: failed/output_truncated naming the limit (planner and coder), the model told each time', async () => {
    const db = h.server.ctx.db;
    const cut = (name: string): FakeTurn => ({ toolCalls: [{ name, arguments: '{"path":"sum.js","content":"export const sum = (a, b) =>' }], finishReason: 'length', usage: { input: 100, output: 20 } });
    const planner = await newProjectFixture(h, 'anthropic');
    script(h, planner, [cut('submit_plan'), cut('submit_plan'), cut('submit_plan'), ...happyTurns()]);
    const first = await waitForRun(db, (await startRun(h, planner)).id);
    expect(first).toMatchObject({ status: 'failed', reason: 'output_truncated' });
    expect(requestsOf(h, planner)).toHaveLength(3);
    expect(bodyText(requestsOf(h, planner)[1]!)).toContain('cut off at the output limit of 8192 tokens');

    const coder = await newProjectFixture(h, 'openai-compatible');
    script(h, coder, [planTurn([TASKS[0]!]), bareArchTurn(), cut('write_file'), cut('write_file'), cut('write_file'), writeTurn('sum.js', SUM_OK), finishTurn()]);
    const second = await waitForRun(db, (await startRun(h, coder)).id);
    expect(second).toMatchObject({ status: 'failed', reason: 'output_truncated' });
    const finished = (await projectEvents(db, coder)).at(-1)!;
    expect((finished.data as { message: string }).message).toMatch(/last 3 answers were all cut off at the output-token limit of 8192 tokens/);
    expect((finished.data as { message: string }).message).toContain('SAMOKODER_MAX_OUTPUT_TOKENS');
  });

  test("DeepSeek's thinking mode with tools, parallel calls all at index 0: reasoning_content goes back, the calls stay apart, the run succeeds", async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const think = (t: FakeTurn): FakeTurn => ({ ...t, reasoning: 'Thinking about the next step before calling a tool.', match: { apiKey: fx.apiKey } });
    const usage = { input: 100, output: 20 };
    h.fake.setScript({
      requireReasoningContent: true,
      turns: [
        planTurn(TASKS), archTurn(),
        // Two files in one answer, both streamed at index 0 (Ollama, LiteLLM, Gemini bridges).
        { toolCalls: [{ id: 'call_pkg', name: 'write_file', arguments: { path: 'package.json', content: PACKAGE_JSON } }, { id: 'call_sum', name: 'write_file', arguments: { path: 'sum.js', content: SUM_OK } }], sameToolCallIndex: true, usage },
        finishTurn('sum written'), writeTurn('sum.test.js', SUM_TEST), finishTurn('test written'),
      ].map(think),
    });
    const done = await waitForRun(db, (await startRun(h, fx)).id, 300_000);
    expect(done).toMatchObject({ status: 'succeeded' });
    const requests = requestsOf(h, fx);
    expect(requests.every((r) => r.status === 200)).toBe(true);
    const ws = await fx.workspace();
    expect(await ws.files.readFile('sum.js')).toMatchObject({ content: SUM_OK });
    expect(await ws.files.readFile('package.json')).toMatchObject({ content: PACKAGE_JSON });
  });

  test('an empty answer on Anthropic is never sent back as empty content: the coder is nudged and the run succeeds', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    const [plan, arch, ...coding] = happyTurns();
    script(h, fx, [plan!, arch!, {}, ...coding]);
    const done = await waitForRun(db, (await startRun(h, fx)).id, 300_000);
    expect(done).toMatchObject({ status: 'succeeded' });
    const requests = requestsOf(h, fx);
    expect(requests.every((r) => r.status === 200)).toBe(true);
    expect(bodyText(requests[3]!)).toContain('Answer with a tool call');
  });
});
