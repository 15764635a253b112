// The default suite judges what it should: every spec's hidden acceptance tests pass on its
// reference solution and fail on its deliberately wrong one, run by the evaluation's own judge in
// the real sandbox (one container for the whole batch); the web spec's browser probe passes and
// fails the same way in the real sandboxed Chromium.
import path from 'node:path';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createDockerBrowserCheck } from '../../sandbox/docker-browser.js';
import { sandboxSettingsFromConfig } from '../../sandbox/settings.js';
import { judge, prepareFromFolder, type JudgeCase } from '../../evals/judge.js';
import { loadSuite, type Suite } from '../../evals/suite.js';
import { sandboxFixture, TEST_RUN_LABEL, type SandboxFixture } from '../sandbox/fixture.js';

let suite: Suite;
let fx: SandboxFixture;

beforeAll(async () => {
  suite = await loadSuite('default');
  fx = sandboxFixture({ execTimeoutMs: 120_000 });
});
afterAll(async () => {
  await fx?.cleanup();
});

test('the default suite has at least 12 specs, easy to hard, of every kind', () => {
  expect(suite.specs.length).toBeGreaterThanOrEqual(12);
  expect(new Set(suite.specs.map((s) => s.difficulty))).toEqual(new Set(['easy', 'medium', 'hard']));
  expect(new Set(suite.specs.map((s) => s.kind))).toEqual(new Set(['library', 'cli', 'api', 'web', 'change', 'bugfix']));
  for (const s of suite.specs.filter((x) => x.kind === 'change' || x.kind === 'bugfix')) expect(s.startDir).toBeDefined();
  expect(suite.specs.filter((s) => s.browser).map((s) => s.id)).toContain('signup-form');
});

test('acceptance tests pass on every reference solution and fail on every wrong one', async () => {
  const root = await fx.workspace();
  const cases: (JudgeCase & { variant: string })[] = [];
  for (const spec of suite.specs) {
    for (const variant of ['reference', 'wrong']) {
      const rel = path.join(spec.id, variant);
      await prepareFromFolder(path.join(root, rel), path.join(spec.dir, variant), { ...spec, browser: undefined }, suite.sharedFiles);
      cases.push({ rel, spec: { ...spec, browser: undefined }, variant });
    }
  }
  const outcomes = await judge(root, cases, { sandbox: fx.sandbox, timeoutMs: 120_000 });
  const verdicts = Object.fromEntries(cases.map((c, i) => [`${c.spec.id}/${c.variant}`, outcomes[i]!.passed]));
  const expected = Object.fromEntries(cases.map((c) => [`${c.spec.id}/${c.variant}`, c.variant === 'reference']));
  const failedReference = cases.map((c, i) => ({ c, o: outcomes[i]! })).filter(({ c, o }) => c.variant === 'reference' && !o.passed);
  expect({ verdicts, why: failedReference.map(({ c, o }) => `${c.spec.id}: ${o.output}`) }).toEqual({ verdicts, why: [] });
  expect(verdicts).toEqual(expected);
  for (const [i, c] of cases.entries()) {
    const o = outcomes[i]!;
    if (c.variant === 'reference') expect(o.tests).toEqual({ pass: expect.any(Number), fail: 0 });
    else {
      // Failed on assertions the acceptance tests make, not on a crash before any test ran.
      expect(o.tests.fail).toBeGreaterThan(0);
      expect(o.failing.length).toBeGreaterThan(0);
    }
  }
}, 600_000);

test("the web spec's browser probe passes on the reference and fails on the wrong form", async () => {
  const config = loadConfig({
    SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
    SAMOKODER_BROWSER_IMAGE: process.env.SAMOKODER_BROWSER_IMAGE ?? 'samokoder-browser:latest',
  });
  const browser = createDockerBrowserCheck({
    sandbox: { ...sandboxSettingsFromConfig(config), extraLabels: { [TEST_RUN_LABEL]: fx.runId } },
    browser: { image: config.browser.image, port: 3000, startTimeoutMs: 30_000, loadTimeoutMs: 30_000, memoryBytes: 1024 * 1024 * 1024 },
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const spec = suite.specs.find((s) => s.id === 'signup-form')!;
    const root = await fx.workspace();
    for (const variant of ['reference', 'wrong']) await prepareFromFolder(path.join(root, variant), path.join(spec.dir, variant), spec, suite.sharedFiles);
    // The wrong form passes nothing on to the probe unless its acceptance tests pass: judge its page alone.
    const [good] = await judge(root, [{ rel: 'reference', spec }], { sandbox: fx.sandbox, browser });
    expect(good!.browser).toEqual({ passed: true, log: expect.arrayContaining([expect.stringMatching(/^ok #result contains "Welcome, Ada!"$/)]), problems: [] });
    expect(good!.passed).toBe(true);
    const page = await browser.check({ projectId: `eval-${fx.runId}`, workspaceDir: path.join(root, 'wrong'), command: 'npm start', probe: spec.browser!.steps });
    expect(page.kind).toBe('loaded');
    if (page.kind !== 'loaded') return;
    expect(page.probe?.passed).toBe(false);
    expect(page.probe?.log.at(-1)).toMatch(/^FAILED #result contains "Welcome, Ada!": its text is ""$/);
  } finally {
    await browser.close();
  }
}, 600_000);
