import { StepsRepo } from '../../db/repos/steps.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import {
  bodyText, finishTurn, newProjectFixture, planTurn, projectEvents, requestsOf, script, startHarness, startRun, toolTurn, waitForRun, writeTurn,
  type Harness, type ProjectFixture,
} from './harness.js';
import type { FakeTurn } from '../../scripts/fake-llm/server.js';

// Scripted runs whose app is a small node:http server: verify runs its node:test test, then
// starts it and loads it in Chromium (both in containers; samokoder-browser image).
const RUN_TEST_MS = 300_000;
const usage = { input: 100, output: 20 };

const PAGE_OK = '<!doctype html><title>Counter</title><h1 id="n">0</h1><script>document.getElementById("n").textContent = String(1 + 1);</script>';
const PAGE_BROKEN = '<!doctype html><title>Counter</title><h1 id="n">0</h1><script>document.getElementById("n").textContent = String(counterValue);</script>';
const pageJs = (html: string): string => `module.exports = ${JSON.stringify(html)};\n`;
const SERVER_JS = `const http = require('node:http');
const page = require('./page.js');
http.createServer((req, res) => {
  if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); return; }
  res.writeHead(404); res.end();
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening'));
`;
const TEST_JS = `const test = require('node:test');
const assert = require('node:assert/strict');
test('the page has a heading', () => assert.match(require('./page.js'), /<h1/));
`;

const arch = (start: string): FakeTurn => ({
  toolCalls: [{ name: 'submit_architecture', arguments: {
    stack: 'Node 20, node:http, node:test',
    files: [{ path: 'page.js', purpose: 'the page' }, { path: 'server.js', purpose: 'serves it' }, { path: 'page.test.js', purpose: 'its test' }],
    commands: { install: '', test: 'node --test', start },
  } }],
  usage,
});

/** Plan, architecture and one coder task writing page.js, server.js (or `server`) and the test. */
const appTurns = (page: string, server = SERVER_JS, start = 'node server.js'): FakeTurn[] => [
  planTurn([{ id: 't1', title: 'The app', description: 'A page served by node:http, with a test.' }], 'A one-page web app.'),
  arch(start),
  writeTurn('page.js', pageJs(page)),
  writeTurn('server.js', server),
  writeTurn('page.test.js', TEST_JS),
  finishTurn('app written'),
];

describe('verify: the browser check (real Docker, real Chromium, fake LLM)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('postgres', { SAMOKODER_BROWSER_CHECK: 'on', SAMOKODER_BROWSER_IMAGE: process.env.SAMOKODER_BROWSER_IMAGE ?? 'samokoder-browser:latest' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const verifySteps = async (runId: string) => (await new StepsRepo(h.server.ctx.db).list(runId)).filter((s) => s.kind === 'verify');

  test('a page that renders cleanly passes verify; its screenshot is served to the owner only', async () => {
    const api = apiClient(h.server.url);
    const user = await registerUser(api);
    const apiKey = fakeSecret();
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: h.fake.baseUrls['openai-compatible'] } });
    const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'A one-page web app' } });
    const projectId = (project.body as { project: { id: string } }).project.id;
    script(h, { apiKey } as ProjectFixture, appTurns(PAGE_OK));
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: (key.body as { id: string }).id } });
    expect(gen.status).toBe(202);
    const runId = (gen.body as { run: { id: string } }).run.id;
    const done = await waitForRun(h.server.ctx.db, runId, RUN_TEST_MS);
    expect(done).toMatchObject({ status: 'succeeded' });
    const [verify] = await verifySteps(runId);
    expect(verify!.output).toMatchObject({ passed: true, phase: 'test', browser: { problems: [], screenshot: true } });

    const shot = await fetch(`${h.server.url}/api/projects/${projectId}/runs/${runId}/screenshot`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(shot.status).toBe(200);
    expect(shot.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await shot.arrayBuffer());
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(1000);

    const other = await registerUser(api);
    const foreign = await fetch(`${h.server.url}/api/projects/${projectId}/runs/${runId}/screenshot`, { headers: { authorization: `Bearer ${other.token}` } });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
  }, RUN_TEST_MS);

  test('an uncaught ReferenceError on load fails verify (phase browser); the fixer reads it, fixes it, and the second verify passes', async () => {
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [
      ...appTurns(PAGE_BROKEN),
      toolTurn('edit_file', { path: 'page.js', edits: [{ search: 'String(counterValue)', replace: 'String(1 + 1)' }] }),
      finishTurn('defined the value'),
    ]);
    const run = await startRun(h, fx, 'A one-page web app');
    const done = await waitForRun(h.server.ctx.db, run.id, RUN_TEST_MS);
    expect(done).toMatchObject({ status: 'succeeded' });
    const [first, second] = await verifySteps(run.id);
    expect(first!.output).toMatchObject({ passed: false, phase: 'browser', problem: expect.stringContaining('ReferenceError: counterValue is not defined') });
    expect((first!.output as { browser: { problems: { kind: string }[] } }).browser.problems[0]).toMatchObject({ kind: 'pageerror' });
    expect(second!.output).toMatchObject({ passed: true, browser: { problems: [] } });
    const fixerRequest = requestsOf(h, fx).find((r) => bodyText(r).includes('Browser report'));
    expect(fixerRequest && bodyText(fixerRequest)).toContain('ReferenceError: counterValue is not defined');
    const checked = (await projectEvents(h.server.ctx.db, fx)).filter((e) => e.type === 'browser.checked').map((e) => e.data);
    expect(checked).toEqual([
      expect.objectContaining({ ok: false, errors: [expect.stringContaining('counterValue is not defined')], screenshot: true }),
      expect.objectContaining({ ok: true, errors: [], screenshot: true }),
    ]);
  }, RUN_TEST_MS);

  test('a start command that exits non-zero fails verify with its output; the fixer makes it listen', async () => {
    const fx = await newProjectFixture(h, 'openai-compatible');
    const crashing = "console.error('config.json not found'); process.exit(2);\n";
    script(h, fx, [...appTurns(PAGE_OK, crashing), writeTurn('server.js', SERVER_JS), finishTurn('serves the page')]);
    const run = await startRun(h, fx, 'A one-page web app');
    const done = await waitForRun(h.server.ctx.db, run.id, RUN_TEST_MS);
    expect(done).toMatchObject({ status: 'succeeded' });
    const [first, second] = await verifySteps(run.id);
    expect(first!.output).toMatchObject({ passed: false, phase: 'browser', exitCode: 2, problem: expect.stringContaining('exited with 2'), tail: expect.stringContaining('config.json not found') });
    expect(second!.output).toMatchObject({ passed: true, browser: { problems: [] } });
  }, RUN_TEST_MS);

  test('a start command that exits 0 at once (a CLI) skips the browser check: verify passes on the tests', async () => {
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, appTurns(PAGE_OK, "console.log(require('./page.js').length);\n"));
    const run = await startRun(h, fx, 'A one-page web app');
    const done = await waitForRun(h.server.ctx.db, run.id, RUN_TEST_MS);
    expect(done).toMatchObject({ status: 'succeeded' });
    const [verify, ...more] = await verifySteps(run.id);
    expect(more).toEqual([]);
    expect(verify!.output).toMatchObject({ passed: true, phase: 'test', note: expect.stringContaining('exited 0 without listening') });
    expect(verify!.output).not.toHaveProperty('browser');
    expect((await projectEvents(h.server.ctx.db, fx)).filter((e) => e.type === 'browser.checked')).toEqual([]);
  }, RUN_TEST_MS);
});
