// A service whose sandbox image is missing still starts and says so: /readyz names the component
// and the fix, generate answers 503 E_SANDBOX_UNAVAILABLE with the fix instead of queueing a run,
// and a run that reaches the sandbox anyway fails at once (no retried attempts) with the fix.
import { EventsRepo } from '../../events/event-log.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { happyTurns, newProjectFixture, script, startHarness, startRun, waitForRun, type Harness } from '../pipeline/harness.js';

const MISSING = 'samokoder-sandbox:does-not-exist';
let h: Harness;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // Seven attempts allowed: a run that failed at once after one is not just a lucky count.
  h = await startHarness('pglite', { SAMOKODER_SANDBOX_IMAGE: MISSING, SAMOKODER_RUN_MAX_ATTEMPTS: 7 });
  api = apiClient(h.server.url);
}, 300_000); // a fresh PGlite and service: slow on a loaded machine, not a bound this test is about
afterAll(async () => {
  await h?.close();
});

test('/readyz is 200 degraded with the sandbox component, reason and fix', async () => {
  const res = await api('GET', '/readyz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    status: 'degraded',
    checks: {
      database: { status: 'ok' },
      sandbox: {
        status: 'unavailable',
        component: 'image',
        reason: `The sandbox image ${MISSING} is not on the Docker engine`,
        fix: `build the image: npm run sandbox:image, then set SAMOKODER_SANDBOX_IMAGE to the tag it prints (it is ${MISSING} now)`,
      },
      // The test servers measure workspaces instead of mounting volumes (test/helpers/server.ts).
      workspaceQuota: { setting: 'reactive', active: 'reactive' },
    },
  });
});

test('generate answers 503 E_SANDBOX_UNAVAILABLE with the fix, and queues nothing', async () => {
  const user = await registerUser(api);
  const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: 'sk-test-sandbox-missing-abcd' } });
  expect(key.status).toBe(201);
  const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'a todo app' } });
  const id = project.body.project.id as string;
  const res = await api('POST', `/api/projects/${id}/generate`, { token: user.token, body: { provider: 'openai', model: 'gpt-4o-mini', keyId: key.body.id } });
  expect(res.status).toBe(503);
  expect(res.body.error).toMatchObject({ code: 'E_SANDBOX_UNAVAILABLE', details: { component: 'image', fix: expect.stringContaining('npm run sandbox:image') } });
  expect(res.body.error.message).toContain(`The sandbox image ${MISSING} is not on the Docker engine. Fix: build the image: npm run sandbox:image`);
  expect((await api('GET', `/api/projects/${id}/runs`, { token: user.token })).body.runs).toEqual([]);
});

test('a run that reaches the sandbox fails at once with sandbox_unavailable and the fix (one attempt)', async () => {
  const db = h.server.ctx.db;
  const fx = await newProjectFixture(h, 'openai-compatible');
  script(h, fx, happyTurns());
  const run = await startRun(h, fx);
  const done = await waitForRun(db, run.id, 240_000);
  expect(done).toMatchObject({ status: 'failed', reason: 'sandbox_unavailable', message: expect.stringContaining('Fix: build the image: npm run sandbox:image') });
  const events = (await new EventsRepo(db).listSince(fx.projectId, fx.userId, 0, 10_000)).filter((e) => e.runId === run.id);
  expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(0);
  const finished = events.find((e) => e.type === 'run.finished')!;
  expect(finished.data).toMatchObject({ status: 'failed', reason: 'sandbox_unavailable', message: expect.stringContaining('Fix: build the image: npm run sandbox:image') });
}, 300_000);
