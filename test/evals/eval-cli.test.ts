// `samokoder eval` end to end: the compiled CLI runs three specs through the in-process service
// against the fake LLM, which solves two and, on purpose, answers the third with its wrong
// solution (whose own tests pass, so only the hidden acceptance tests can catch it). The report
// must say 2 pass, 1 fail, with the failing output, the tokens the fake billed, and the times;
// --compare must set two reports side by side.
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EvalReport } from '../../evals/report.js';
import { loadSuite, type Suite } from '../../evals/suite.js';
import { evalSuiteResponder, EVAL_USAGE } from '../../scripts/fake-llm/eval-suite.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { answered } from '../../scripts/fake-llm/tiny-app.js';
import { ensureCliBuilt, runCli } from '../cli/cli.js';
import { apiClient, startTestServer } from '../helpers/server.js';

let fake: FakeLlm;
let dir: string;
let suite: Suite;
let slowRoman = false;
const env = { SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest', SAMOKODER_BROWSER_IMAGE: process.env.SAMOKODER_BROWSER_IMAGE ?? 'samokoder-browser:latest', LOG_LEVEL: undefined, DATABASE_URL: undefined };
const SECRET = 'sk-eval-secret-never-printed-4321';

beforeAll(async () => {
  ensureCliBuilt();
  suite = await loadSuite('default');
  const solve = evalSuiteResponder(suite, { fail: ['roman'], viaFixer: ['median-bugfix'] });
  // Slowed on demand, so that a ceiling is seen while the run is still going.
  fake = await startFakeLlm({ responder: (r) => {
    const turn = solve(r);
    return turn && slowRoman && JSON.stringify(r.body).includes('[eval:roman]') ? { ...turn, firstByteDelayMs: 5000 } : turn;
  } });
  dir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-eval-test-'));
}, 120_000);
afterAll(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the fake's coder writes for a spec: one turn per file, then finish; plus the planner and the architect. */
const turnsFor = (id: string, variant: 'reference' | 'wrong'): number => 2 + readdirSync(path.join(suite.dir, id, variant)).length + 1;

test('two specs pass, the deliberately wrong one fails: report, Markdown, progress; then --compare', async () => {
  const out = path.join(dir, 'a.json');
  const res = await runCli(['eval', '--base-url', fake.baseUrls['openai-compatible'], '--model', 'fake-model', '--key-env', 'FAKE_KEY', '--only', 'slugify', 'roman', 'median-bugfix', '--concurrency', '2', '--out', out], { ...env, FAKE_KEY: SECRET });
  expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
  expect(`${res.stdout}`).not.toContain(SECRET);
  expect(fake.requests.some((r) => r.apiKey === SECRET)).toBe(true);
  // Progress: a line per spec event, as it happens.
  for (const line of ['slugify#1 started (easy library)', 'roman#1 ▶ planner', 'median-bugfix#1 ▶ verify', 'median-bugfix#1 ▶ fixer (round 1)', 'roman#1 run succeeded', 'roman#1 ✗ failed: 1 acceptance test(s) passed, 3 failed', 'slugify#1 ✓ passed: 4 acceptance test(s) passed, 0 failed']) expect(res.stdout).toContain(line);

  const report = JSON.parse(await readFile(out, 'utf8')) as EvalReport;
  const byId = Object.fromEntries(report.attempts.map((a) => [a.specId, a]));
  expect(Object.fromEntries(report.attempts.map((a) => [a.specId, a.outcome]))).toEqual({ slugify: 'passed', roman: 'failed', 'median-bugfix': 'passed' });
  // The wrong solution's run succeeded on its own tests: the verdict is the acceptance tests' alone.
  // median-bugfix's coder changed nothing, its start project's test failed verify, and the fixer's first round fixed it.
  for (const a of report.attempts) expect({ id: a.specId, stop: a.stopReason, fixRounds: a.fixRounds }).toEqual({ id: a.specId, stop: 'succeeded', fixRounds: a.specId === 'median-bugfix' ? 1 : 0 });
  expect(byId.roman!.acceptance!.failing).toEqual(['toRoman', 'fromRoman', 'out of range and malformed input throw RangeError']);
  expect(byId.roman!.acceptance!.output).toContain('62 !== 42');
  // The tokens are what the fake billed: a fixed amount per answer, one answer per turn.
  for (const [id, variant, extra] of [['slugify', 'reference', 0], ['roman', 'wrong', 0], ['median-bugfix', 'reference', 1]] as const) {
    const turns = turnsFor(id, variant) + extra; // + the coder's empty turn before the fix round
    expect(byId[id]!.tokens).toEqual({ input: turns * EVAL_USAGE.input, output: turns * EVAL_USAGE.output, cacheRead: 0, cacheWrite: 0 });
  }
  expect(report.totals.tokens.input).toBe(fake.requests.filter(answered).length * EVAL_USAGE.input);
  for (const a of report.attempts) expect(a.wallSeconds).toBeGreaterThan(0);
  expect(report.totals).toMatchObject({ specs: 3, judged: 3, passedAttempts: 2, passedSpecs: 2, passAt1: 2 / 3, passAtK: { k: 1, value: 2 / 3 }, costUsd: null });
  const passTimes = [byId.slugify!.wallSeconds, byId['median-bugfix']!.wallSeconds];
  expect(report.totals.medianSecondsPerPass).toBeCloseTo((passTimes[0]! + passTimes[1]!) / 2, 6);

  const markdown = await readFile(path.join(dir, 'a.md'), 'utf8');
  expect(`${JSON.stringify(report)}\n${markdown}`).not.toContain(SECRET);
  expect(res.stdout).toContain(markdown.trim().split('\n')[0]);
  expect(markdown).toContain('| 66.7% | 2/3 attempts, 2/3 specs |');
  expect(markdown).toMatch(/\| roman \| 1 \| ❌ fail \| 1 passed, 3 failed \|/);
  expect(markdown).toMatch(/### roman #1\n\nFailing acceptance tests: toRoman; fromRoman;/);

  // B: the same run with roman fixed.
  const b: EvalReport = structuredClone(report);
  b.specs.find((s) => s.id === 'roman')!.passes = 1;
  b.totals = { ...b.totals, passAt1: 1, passedSpecs: 3, passedAttempts: 3 };
  await writeFile(path.join(dir, 'b.json'), JSON.stringify(b));
  const cmp = await runCli(['eval', '--compare', out, path.join(dir, 'b.json')]);
  expect(cmp.code).toBe(0);
  expect(cmp.stdout).toContain('| pass@1 | 66.7% | 100.0% | +33.3% |');
  expect(cmp.stdout).toContain('| passed specs | 2/3 | 3/3 | +1 |');
  expect(cmp.stdout).toContain('| roman | 0/1 | 1/1 | better |');
  expect(cmp.stdout).toContain('| slugify | 1/1 | 1/1 |  |');
}, 600_000);

test('--url: a running service with its token; a start-project spec is skipped there, a spec past its token ceiling is cancelled', async () => {
  // A suite of three: slugify as it is, median-bugfix (starts from a project), roman with a token ceiling the run passes after two answers.
  const custom = path.join(dir, 'custom-suite');
  for (const id of ['slugify', 'median-bugfix', 'roman', '_shared']) await cp(path.join(suite.dir, id), path.join(custom, id), { recursive: true });
  const romanSpec = JSON.parse(await readFile(path.join(custom, 'roman', 'spec.json'), 'utf8')) as { ceilings: { tokens: number } };
  romanSpec.ceilings.tokens = 150;
  await writeFile(path.join(custom, 'roman', 'spec.json'), JSON.stringify(romanSpec));
  slowRoman = true;
  const server = await startTestServer('pglite', { SAMOKODER_SANDBOX_IMAGE: env.SAMOKODER_SANDBOX_IMAGE, SAMOKODER_DEFAULT_PLAN: 'unlimited' });
  try {
    const api = apiClient(server.url);
    const { body } = await api<{ token: string }>('POST', '/api/auth/register', { body: { email: 'evals@example.com', password: 'a long eval password 42!' } });
    const out = path.join(dir, 'remote.json');
    const res = await runCli(['eval', '--url', server.url, '--base-url', fake.baseUrls['openai-compatible'], '--model', 'fake-model', '--suite', custom, '--concurrency', '2', '--out', out], { ...env, SAMOKODER_TOKEN: body.token });
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    expect(res.stdout).toContain('roman#1 ✗ past its token ceiling (150): cancelling the run');
    const report = JSON.parse(await readFile(out, 'utf8')) as EvalReport;
    const byId = Object.fromEntries(report.attempts.map((a) => [a.specId, a]));
    expect(report.attempts.map((a) => [a.specId, a.outcome])).toEqual([['median-bugfix', 'skipped'], ['roman', 'failed'], ['slugify', 'passed']]);
    expect(byId.roman).toMatchObject({ stopReason: 'ceiling_tokens', runStatus: 'cancelled' });
    expect(byId.roman!.tokens.input + byId.roman!.tokens.output).toBeGreaterThan(150);
    // A shared account: its month's usage is not the attempt's, so no cached tokens are claimed.
    expect(byId.slugify!.tokens).toEqual({ input: turnsFor('slugify', 'reference') * EVAL_USAGE.input, output: turnsFor('slugify', 'reference') * EVAL_USAGE.output, cacheRead: null, cacheWrite: null });
    expect(report.totals).toMatchObject({ specs: 2, judged: 2, passedSpecs: 1, passAt1: 0.5 });
    // The projects are the user's, on that service.
    const projects = await api<{ projects: { id: string }[] }>('GET', '/api/projects', { token: body.token });
    expect(projects.body.projects.map((p) => p.id)).toEqual(expect.arrayContaining([byId.slugify!.projectId, byId.roman!.projectId]));
  } finally {
    slowRoman = false;
    await server.close();
  }
}, 600_000);

test('bad input exits 2 with what to fix, before starting anything', async () => {
  const unknown = await runCli(['eval', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--only', 'nope']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/no spec nope in suite default; it has: calc-change, csv-parse/);
  const noSuite = await runCli(['eval', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--suite', 'missing-suite']);
  expect(noSuite.code).toBe(2);
  expect(noSuite.stderr).toMatch(/no suite at .*missing-suite/);
  expect((await runCli(['eval', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--repeat', '0'])).stderr).toMatch(/--repeat must be a whole number from 1 to 100/);
  const oneReport = await runCli(['eval', '--compare', 'a.json']);
  expect(oneReport.code).toBe(2);
  expect(oneReport.stderr).toMatch(/--compare takes two reports/);
  const notReport = await runCli(['eval', '--compare', 'package.json', 'package.json']);
  expect(notReport.code).toBe(2);
  expect(notReport.stderr).toMatch(/package\.json is not a report of samokoder eval/);
  expect(existsSync(path.join(dir, 'nope.json'))).toBe(false);
});
