import { randomUUID } from 'node:crypto';
import { StepsRepo } from '../../db/repos/steps.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import { bodyText, finishTurn, planTurn, requestsOf, script, startHarness, waitForRun, writeTurn, type Harness, type ProjectFixture } from '../pipeline/harness.js';
import type { FakeTurn } from '../../scripts/fake-llm/server.js';

const SECRET = `v3rify-${randomUUID()}`;
const usage = { input: 100, output: 20 };

// The test needs the variable (its length is checked), prints it (the output must be scrubbed),
// and fails until the fixer writes fixed.txt: the fixer's prompt then carries the test's output.
const TEST_JS = `const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
test('the secret is there', () => {
  console.log('APP_SECRET is ' + process.env.APP_SECRET);
  assert.equal((process.env.APP_SECRET || '').length, ${SECRET.length});
  assert.ok(fs.existsSync('fixed.txt'), 'fixed.txt is missing');
});
`;

const turns: FakeTurn[] = [
  planTurn([{ id: 't1', title: 'A test that needs APP_SECRET', description: 'Write the test.' }], 'A test.'),
  { toolCalls: [{ name: 'submit_architecture', arguments: { stack: 'Node 20, node:test', files: [{ path: 'secret.test.js', purpose: 'the test' }], commands: { install: '', test: 'node --test', start: '' } } }], usage },
  writeTurn('secret.test.js', TEST_JS),
  finishTurn('test written'),
  writeTurn('fixed.txt', 'ok\n'),
  finishTurn('fixed'),
];

describe("project variables in verify's test command (real Docker, fake LLM)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('pglite');
  });
  afterAll(async () => {
    await h?.close();
  });

  test("the tests get the variable; its value is in no prompt, event or step output", async () => {
    const api = apiClient(h.server.url);
    const user = await registerUser(api);
    const apiKey = fakeSecret();
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: h.fake.baseUrls['openai-compatible'] } });
    const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'A test that reads APP_SECRET' } });
    const projectId = (project.body as { project: { id: string } }).project.id;
    expect((await api('PUT', `/api/projects/${projectId}/env`, { token: user.token, body: { vars: { APP_SECRET: SECRET } } })).status).toBe(200);
    script(h, { apiKey } as ProjectFixture, turns);
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: (key.body as { id: string }).id } });
    expect(gen.status).toBe(202);
    const runId = (gen.body as { run: { id: string } }).run.id;
    expect(await waitForRun(h.server.ctx.db, runId, 300_000)).toMatchObject({ status: 'succeeded' });

    // The first verify failed on fixed.txt only (so the variable had arrived), the second passed.
    const verifies = (await new StepsRepo(h.server.ctx.db).list(runId)).filter((s) => s.kind === 'verify');
    expect(verifies.map((v) => (v.output as { passed: boolean }).passed)).toEqual([false, true]);
    const firstTail = (verifies[0]!.output as { tail: string }).tail;
    expect(firstTail).toContain('APP_SECRET is [APP_SECRET]');
    expect(firstTail).toContain('fixed.txt is missing');

    const prompts = requestsOf(h, { apiKey } as ProjectFixture).map(bodyText);
    expect(prompts.length).toBeGreaterThan(0);
    expect(prompts.some((p) => p.includes('APP_SECRET is [APP_SECRET]'))).toBe(true);
    expect(prompts.join('\n')).not.toContain(SECRET);
    const events = await h.server.ctx.db.query<{ j: string }>('SELECT data::text AS j FROM events WHERE project_id = $1', [projectId]);
    expect(events.rows.map((r) => r.j).join('\n')).not.toContain(SECRET);
    const steps = await h.server.ctx.db.query<{ j: string }>('SELECT to_jsonb(s)::text AS j FROM steps s WHERE run_id = $1', [runId]);
    expect(steps.rows.map((r) => r.j).join('\n')).not.toContain(SECRET);
    expect(h.server.logs.join('\n')).not.toContain(SECRET);
  }, 360_000);
});
