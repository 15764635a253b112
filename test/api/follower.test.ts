import WebSocket from 'ws';
import { publishEphemeral } from '../../events/event-log.js';
import { appendEvent } from '../../events/run-events.js';
import { ProjectFollower, type FollowerStatus } from '../../protocol/follower.js';
import type { EventFrame } from '../../protocol/ws-frames.js';
import { waitFor } from '../db/fixtures.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, seedTenant, type Tenant } from './fixtures.js';

/**
 * protocol/follower.ts — the one follower the web UI and the CLI share — on the `ws` package (as
 * the CLI runs it) against the real service's /ws.
 */
describe('the shared project follower against /ws (postgres)', () => {
  let server: TestServer;
  let t: Tenant;
  beforeAll(async () => {
    server = await startTestServer('postgres', NO_WORKER);
    t = await seedTenant(server, apiClient(server.url));
  });
  afterAll(async () => {
    await server.close();
  });

  const follow = (token: string) => {
    const events: EventFrame[] = [];
    const statuses: { status: FollowerStatus; detail?: string }[] = [];
    const follower = new ProjectFollower({
      projectId: t.projectId,
      open: () => new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } }),
      onEvent: (e) => events.push(e),
      onStatus: (status, detail) => statuses.push({ status, ...(detail ? { detail } : {}) }),
      backoff: { baseMs: 20, maxMs: 200 },
    });
    const seqs = () => events.flatMap((e) => ('seq' in e ? [e.seq] : []));
    return { follower, events, statuses, seqs };
  };
  const append = (i: number) => appendEvent(server.ctx.db, { projectId: t.projectId, runId: t.runId, type: 'file.written', data: { stepSeq: 1, path: `f${i}.txt`, size: i } });

  test('replays from 0, follows live, and after a dropped socket resubscribes from its last seq: every durable event once, in order', async () => {
    const f = follow(t.token);
    await waitFor('run.queued', () => f.events.some((e) => e.type === 'run.queued'));
    await waitFor('live', () => f.statuses.at(-1)?.status === 'live');
    for (let i = 1; i <= 3; i++) await append(i);
    await waitFor('three events', () => f.seqs().length === 4);
    await publishEphemeral(server.ctx.db, { projectId: t.projectId, runId: t.runId, type: 'llm.delta', data: { stepSeq: 1, text: 'hi' } });
    await waitFor('the delta', () => f.events.some((e) => e.type === 'llm.delta'));

    // Events appended while the socket is down arrive after the reconnect, none twice.
    f.follower.drop();
    for (let i = 4; i <= 6; i++) await append(i);
    const last = (await append(7)).seq;
    await waitFor('the events after the drop', () => f.follower.seq === last, 30_000);
    expect(f.follower.opened).toBeGreaterThanOrEqual(2);
    expect(f.statuses.map((s) => s.status)).toContain('reconnecting');
    expect(f.seqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    const delta = f.events.find((e) => e.type === 'llm.delta');
    expect(delta && !('seq' in delta) && delta.data).toEqual({ stepSeq: 1, text: 'hi' });

    f.follower.close();
    expect(f.statuses.at(-1)).toEqual({ status: 'closed' });
    expect(f.follower.closed).toBe(true);
  });

  test('a revoked token closes the follower for good (4001) instead of reconnecting', async () => {
    const api = apiClient(server.url);
    const login = await api('POST', '/api/auth/login', { body: { email: t.email, password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    const f = follow(login.body.token as string);
    await waitFor('live', () => f.statuses.at(-1)?.status === 'live');
    expect((await api('POST', '/api/auth/logout', { token: login.body.token as string })).status).toBe(204);
    await waitFor('closed', () => f.follower.closed, 30_000);
    expect(f.statuses.at(-1)).toEqual({ status: 'closed', detail: 'signed out: log in again' });
    expect(f.follower.opened).toBe(1);
  });
});
