import { shippedSeed } from '../../llm/catalogue-seed.js';
import { AGENT_ROLES, type AgentRole } from '../../protocol/api-types.js';
import { RunsRepo } from '../../runs/runs-repo.js';
import type { PriceSource } from '../../usage/cost.js';
import { UsageLedger } from '../../usage/usage-ledger.js';
import { DEFAULT_STEP, estimateRun, measuredStepAverages, MIN_SAMPLES, stepAverages } from '../../usage/run-estimate.js';
import { systemClock } from '../../core/clock.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { newProject } from '../db/fixtures.js';

// The shipped catalogue's prices (a new database's catalogue starts from them).
const seed = shippedSeed();
const prices: PriceSource = { price: (provider, model) => seed.models.find((m) => m.provider === provider && m.model === model)?.prices ?? undefined };
const everyRole = (provider: string, model: string) => Object.fromEntries(AGENT_ROLES.map((r) => [r, { provider, model }])) as Record<AgentRole, { provider: string; model: string }>;

describe('the run estimate (usage/run-estimate.ts)', () => {
  test('a new project on the built-in step figures: the low end is planner + architect + two coder tasks, each with the prompt once', () => {
    const e = estimateRun({ kind: 'generate', prompt: 'x'.repeat(400), projectChars: 0, fixRounds: 2, perStep: stepAverages(new Map()), models: everyRole('openai', 'gpt-4o-mini'), prices });
    // prompt 100 tokens: planner 2,000 + 100 + 600, architect 3,000 + 100 + 800, coder 2 × (30,000 + 100 + 5,000).
    expect(e.tokens.low).toBe(2_700 + 3_900 + 2 * 35_100);
    expect(e.tokens.high).toBeGreaterThan(e.tokens.low * 3);
    // gpt-4o-mini: $0.15/M in, $0.60/M out.
    const lowIn = 2_100 + 3_100 + 2 * 30_100;
    const lowOut = 600 + 800 + 2 * 5_000;
    expect(e.costUsd!.low).toBeCloseTo((lowIn * 0.15 + lowOut * 0.6) / 1e6, 6);
    expect(e.basis).toMatchObject({ kind: 'generate', promptTokens: 100, projectTokens: 0, tasks: { low: 2, high: 6 }, fixRounds: 2, unpricedModels: [] });
    for (const role of AGENT_ROLES) expect(e.basis.perStep[role]).toEqual({ ...DEFAULT_STEP[role], samples: 0 });
  });

  test("a change counts the project's size up to the context cap; an unpriced role model makes the cost null", () => {
    const small = estimateRun({ kind: 'change', prompt: 'add dark mode', projectChars: 4_000, fixRounds: 1, perStep: stepAverages(new Map()), models: everyRole('openai', 'gpt-4o'), prices });
    const huge = estimateRun({ kind: 'change', prompt: 'add dark mode', projectChars: 10_000_000, fixRounds: 1, perStep: stepAverages(new Map()), models: everyRole('openai', 'gpt-4o'), prices });
    expect(small.basis.projectTokens).toBe(1_000);
    expect(huge.basis.projectTokens).toBe(6_000);
    expect(huge.tokens.low).toBeGreaterThan(small.tokens.low);
    const models = { ...everyRole('openai', 'gpt-4o'), coder: { provider: 'openai-compatible', model: 'qwen2.5-coder:7b' } };
    const unpriced = estimateRun({ kind: 'change', prompt: 'x', projectChars: 0, fixRounds: 1, perStep: stepAverages(new Map()), models, prices });
    expect(unpriced.costUsd).toBeNull();
    expect(unpriced.basis.unpricedModels).toEqual(['openai-compatible/qwen2.5-coder:7b']);
  });

  test(`measured averages replace the built-in figures from ${MIN_SAMPLES} finished steps of a role`, () => {
    const avg = stepAverages(new Map([
      ['coder', { steps: MIN_SAMPLES, calls: 4 * MIN_SAMPLES, inputTokens: 1_000 * MIN_SAMPLES, outputTokens: 200 * MIN_SAMPLES }],
      ['planner', { steps: MIN_SAMPLES - 1, calls: 4, inputTokens: 1, outputTokens: 1 }],
    ]));
    expect(avg.coder).toEqual({ inputTokens: 1_000, outputTokens: 200, calls: 4, samples: MIN_SAMPLES });
    expect(avg.planner).toEqual({ ...DEFAULT_STEP.planner, samples: 0 });
  });
});

describe.each(DATABASE_KINDS)('measured step averages on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  test("the latest succeeded steps of each role, from their settled ledger rows (failed steps and reserved rows left out)", async () => {
    const { db } = t;
    const { user, projectId } = await newProject(db);
    const run = await new RunsRepo(db).insert({ projectId, userId: user.id, kind: 'generate', prompt: 'p', provider: 'openai', model: 'gpt-4o-mini', keyId: null, keySource: 'platform' });
    const ledger = new UsageLedger(db, prices, systemClock);
    const step = async (seq: number, kind: string, status: string, calls: { input: number; output: number; settle: boolean }[]) => {
      const id = (await db.query<{ id: string }>(`INSERT INTO steps (run_id, seq, kind, status, finished_at) VALUES ($1, $2, $3, $4, now()) RETURNING id`, [run.id, seq, kind, status])).rows[0]!.id;
      for (const c of calls) {
        const r = await ledger.reserve({ userId: user.id, provider: 'openai', model: 'gpt-4o-mini', keySource: 'platform', keyRef: null, tokens: 10, runId: run.id, stepId: id });
        if (c.settle) await ledger.settle(r, { inputTokens: c.input, outputTokens: c.output });
      }
    };
    let seq = 0;
    for (let i = 0; i < MIN_SAMPLES; i++) await step(++seq, 'coder', 'succeeded', [{ input: 900, output: 100, settle: true }, { input: 1_100, output: 300, settle: true }, { input: 99_999, output: 1, settle: false }]);
    await step(++seq, 'coder', 'failed', [{ input: 50_000, output: 50_000, settle: true }]);
    await step(++seq, 'planner', 'succeeded', [{ input: 500, output: 50, settle: true }]);

    const avg = await measuredStepAverages(db);
    expect(avg.coder).toEqual({ inputTokens: 2_000, outputTokens: 400, calls: 2, samples: MIN_SAMPLES });
    // One planner step is too few: the built-in figure stands.
    expect(avg.planner).toEqual({ ...DEFAULT_STEP.planner, samples: 0 });
  });
});
