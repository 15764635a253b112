import { EventsRepo } from '../../events/event-log.js';
import { fakeSecret } from '../keys/fixtures.js';
import { happyTurns, script, startHarness, type Harness, type ProjectFixture } from '../pipeline/harness.js';
import { apiClient, registerUser } from '../helpers/server.js';
import { TestSocket } from './ws-client.js';

/**
 * The whole path a client sees, against a real run: REST generate → the run worker executes a
 * scripted run (fake LLM, real sandbox, real git) → its events stream over /ws. One socket
 * subscribes before the run, another joins mid-run from an earlier cursor: both get every
 * durable event exactly once, in order, ending with run.finished.
 */
describe('a real run streamed over the WebSocket (postgres)', () => {
  let h: Harness;
  // Every frame of the real run must be one protocol/ws-frames describes (event data by the catalogue).
  afterEach(() => expect(TestSocket.takeProtocolErrors()).toEqual([]));
  beforeAll(async () => {
    h = await startHarness('postgres');
  });
  afterAll(async () => {
    await h?.close();
  });

  test('generate, follow from the start and join mid-run: no gap, no duplicate', async () => {
    const api = apiClient(h.server.url);
    const user = await registerUser(api);
    await h.server.ctx.db.query("UPDATE users SET plan_id = 'unlimited' WHERE id = $1", [user.userId]);
    const apiKey = fakeSecret();
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: h.fake.baseUrls['openai-compatible'] } });
    expect(key.status).toBe(201);
    const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'Build a sum function with a test' } });
    const projectId: string = project.body.project.id;
    script(h, { apiKey } as ProjectFixture, happyTurns());

    const early = await TestSocket.open(h.server.url, { token: user.token });
    early.send({ type: 'subscribe', projectId, since: 0 });
    await early.next((f) => f.type === 'subscribed');
    const gen = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: key.body.id } });
    expect(gen.status).toBe(202);

    // Join while the run is going, from a cursor a little behind what has been committed.
    const firstStep = await early.next((f) => f.type === 'step.finished', 60_000);
    const since = Math.max(0, firstStep.seq! - 2);
    const late = await TestSocket.open(h.server.url, { queryToken: user.token });
    late.send({ type: 'subscribe', projectId, since });

    const finished = await early.next((f) => f.type === 'run.finished', 120_000);
    await late.next((f) => f.type === 'run.finished', 10_000);
    expect(finished.data).toEqual({ status: 'succeeded', reason: null });
    const last = finished.seq!;
    const all = (await new EventsRepo(h.server.ctx.db).listSince(projectId, user.userId, 0, 10_000)).map((e) => e.seq);
    expect(all.at(-1)).toBe(last);
    expect(early.seqs(projectId)).toEqual(all);
    expect(late.seqs(projectId)).toEqual(all.filter((s) => s > since));

    const run = await api('GET', `/api/projects/${projectId}/runs/${gen.body.run.id}`, { token: user.token });
    expect(run.body.run).toMatchObject({ status: 'succeeded', usage: { inputTokens: 700, outputTokens: 140 } });
    expect(run.body.steps.map((s: { kind: string }) => s.kind)).toEqual(['planner', 'architect', 'coder', 'coder', 'verify']);
    const file = await api('GET', `/api/projects/${projectId}/files/sum.js`, { token: user.token });
    expect(file.body.content).toContain('export const sum');
    await early.close();
    await late.close();
  }, 180_000);
});
