import { EventsRepo, publishEphemeral } from '../../events/event-log.js';
import { appendEvent } from '../../events/run-events.js';
import type { EventInput } from '../../protocol/event-catalogue.js';
import { PgDatabase } from '../../db/pg-database.js';
import { createLogger } from '../../core/logger.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { sleep, waitFor } from '../db/fixtures.js';
import { NO_WORKER, seedTenant, type Api, type Tenant } from './fixtures.js';
import { TestSocket } from './ws-client.js';
import { newMasterKeyText } from '../keys/fixtures.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** A durable catalogue event to append (every frame these tests receive is checked against the protocol). */
const fileWritten = (i: number): EventInput<'file.written'> => ({ type: 'file.written', data: { stepSeq: 1, path: `f${i}.txt`, size: i } });

// Every frame any TestSocket received in a test must be a valid protocol/ws-frames frame.
afterEach(() => expect(TestSocket.takeProtocolErrors()).toEqual([]));

describe('WebSocket /ws (postgres)', () => {
  let server: TestServer;
  let api: Api;
  let a: Tenant;
  let b: Tenant;
  let events: EventsRepo;
  beforeAll(async () => {
    server = await startTestServer('postgres', { ...NO_WORKER, SAMOKODER_WS_HEARTBEAT_MS: 300 });
    api = apiClient(server.url);
    [a, b] = await Promise.all([seedTenant(server, api), seedTenant(server, api)]);
    events = new EventsRepo(server.ctx.db);
  });
  afterAll(async () => {
    await server.close();
  });

  test('the upgrade is authenticated: no or a bad token is a 401, another path a 404', async () => {
    await expect(TestSocket.open(server.url)).rejects.toMatchObject({ status: 401 });
    await expect(TestSocket.open(server.url, { token: 'nope' })).rejects.toMatchObject({ status: 401, body: expect.stringContaining('E_AUTH') });
    await expect(TestSocket.open(server.url, { token: a.token, path: '/other' })).rejects.toMatchObject({ status: 404 });
    const s = await TestSocket.open(server.url, { queryToken: a.token });
    await s.close();
  });

  test('subscribe replays from the database (run.queued is seq 1), then follows live; since skips', async () => {
    const s = await TestSocket.open(server.url, { token: a.token });
    s.send({ type: 'subscribe', projectId: a.projectId, since: 0 });
    const ack = await s.next((f) => f.type === 'subscribed');
    expect(ack).toEqual({ type: 'subscribed', projectId: a.projectId, since: 0 });
    const queued = await s.next((f) => f.type === 'run.queued');
    expect(queued).toMatchObject({ seq: 1, projectId: a.projectId, runId: a.runId, data: { provider: 'openai' } });
    expect(typeof queued.at).toBe('string');
    const e = await appendEvent(server.ctx.db, { projectId: a.projectId, runId: a.runId, ...fileWritten(1) });
    await s.next((f) => f.seq === e.seq);
    await publishEphemeral(server.ctx.db, { projectId: a.projectId, runId: a.runId, type: 'llm.delta', data: { stepSeq: 1, text: 'hel' } });
    const delta = await s.next((f) => f.type === 'llm.delta');
    expect(delta).toMatchObject({ projectId: a.projectId, runId: a.runId, data: { stepSeq: 1, text: 'hel' } });
    expect(delta.seq).toBeUndefined();
    s.send({ type: 'subscribe', projectId: a.projectId, since: e.seq });
    await s.next((f) => f.type === 'subscribed' && f.since === e.seq, 5000, s.frames.length);
    await s.close();
  });

  test('interleaved deltas of two projects: every subscriber gets its own project\'s frames, in order', async () => {
    const [a1, a2, b1] = await Promise.all([
      TestSocket.open(server.url, { token: a.token }),
      TestSocket.open(server.url, { token: a.token }),
      TestSocket.open(server.url, { token: b.token }),
    ]);
    for (const [s, projectId] of [[a1, a.projectId], [a2, a.projectId], [b1, b.projectId]] as const) {
      s.send({ type: 'subscribe', projectId, since: 0 });
      await s.next((f) => f.type === 'subscribed');
    }
    // Published in one tick: one NOTIFY batch, delivered a, b, a, b… to the node's feed.
    await Promise.all(range(1, 10).flatMap((i) => [
      publishEphemeral(server.ctx.db, { projectId: a.projectId, type: 'llm.delta', data: { stepSeq: 1, text: `a${i}` } }),
      publishEphemeral(server.ctx.db, { projectId: b.projectId, type: 'llm.delta', data: { stepSeq: 1, text: `b${i}` } }),
    ]));
    const texts = async (s: TestSocket, last: string) => {
      await s.next((f) => f.type === 'llm.delta' && (f.data as { text: string }).text === last);
      return s.frames.filter((f) => f.type === 'llm.delta').map((f) => [f.projectId, (f.data as { text: string }).text]);
    };
    const want = (projectId: string, p: string) => range(1, 10).map((i) => [projectId, `${p}${i}`]);
    expect(await texts(a1, 'a10')).toEqual(want(a.projectId, 'a'));
    expect(await texts(a2, 'a10')).toEqual(want(a.projectId, 'a'));
    expect(await texts(b1, 'b10')).toEqual(want(b.projectId, 'b'));
    await Promise.all([a1.close(), a2.close(), b1.close()]);
  });

  test("another user's project is an error frame, not silence; its deltas never leak", async () => {
    const s = await TestSocket.open(server.url, { token: b.token });
    s.send({ type: 'subscribe', projectId: a.projectId, since: 0 });
    const err = await s.next((f) => f.type === 'error');
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', projectId: a.projectId });
    s.send({ type: 'subscribe', projectId: '00000000-0000-4000-8000-000000000000', since: 0 });
    await s.next((f) => f.type === 'error' && f.projectId === '00000000-0000-4000-8000-000000000000');
    await publishEphemeral(server.ctx.db, { projectId: a.projectId, type: 'llm.delta', data: { stepSeq: 1, text: 'secret' } });
    await appendEvent(server.ctx.db, { projectId: a.projectId, runId: null, ...fileWritten(1) });
    s.send({ type: 'ping', id: 7 });
    await s.next((f) => f.type === 'pong' && f.id === 7);
    await sleep(200);
    expect(s.frames.filter((f) => f.projectId === a.projectId && f.type !== 'error')).toEqual([]);
    await s.close();
  });

  test('malformed frames get an error frame and the connection stays usable', async () => {
    const s = await TestSocket.open(server.url, { token: a.token });
    s.send('{not json');
    expect(await s.next((f) => f.type === 'error')).toMatchObject({ code: 'E_BAD_JSON' });
    for (const bad of [{ type: 'dance' }, { type: 'subscribe', projectId: 'x', since: 0 }, { type: 'subscribe', projectId: a.projectId, since: -1 }, [1, 2], JSON.stringify('str'), { type: 'subscribe', projectId: a.projectId, since: 'a\u0000' }]) {
      const n = s.frames.length;
      s.send(bad);
      expect(await s.next((f) => f.type === 'error', 5000, n)).toMatchObject({ code: 'E_VALIDATION' });
    }
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await s.next((f) => f.type === 'error' && /text frames/.test(String(f.message)));
    s.send({ type: 'subscribe', projectId: a.projectId, since: 0 });
    await s.next((f) => f.type === 'run.queued');
    await s.close();
  });

  test('a frame over the size cap closes the connection with 1009', async () => {
    const s = await TestSocket.open(server.url, { token: a.token });
    s.send({ type: 'subscribe', projectId: a.projectId, pad: 'x'.repeat(100_000) });
    expect(await s.closed).toBe(1009);
  });

  test('unsubscribe stops the stream', async () => {
    const s = await TestSocket.open(server.url, { token: a.token });
    s.send({ type: 'subscribe', projectId: a.projectId, since: 0 });
    await s.next((f) => f.type === 'subscribed');
    s.send({ type: 'unsubscribe', projectId: a.projectId });
    await s.next((f) => f.type === 'unsubscribed');
    const n = s.frames.length;
    await appendEvent(server.ctx.db, { projectId: a.projectId, runId: null, ...fileWritten(1) });
    await sleep(300);
    expect(s.frames.slice(n)).toEqual([]);
    await s.close();
  });

  test('no gap and no duplicate at the seam: subscribers joining while events are appended concurrently', async () => {
    const t = await seedTenant(server, api);
    const start = (await events.lastSeq(t.projectId, t.userId))!;
    const total = 400;
    // Appends from 4 concurrent writers (each its own transaction), while sockets subscribe at
    // different moments with different cursors.
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < total / 4; i++) await appendEvent(server.ctx.db, { projectId: t.projectId, runId: null, ...fileWritten(i) });
    });
    const sockets: Array<{ s: TestSocket; since: number }> = [];
    const joiners = (async () => {
      for (let k = 0; k < 8; k++) {
        await sleep(15 * k);
        const s = await TestSocket.open(server.url, { token: t.token });
        const since = Math.max(0, (await events.lastSeq(t.projectId, t.userId))! - 5 * k);
        s.send({ type: 'subscribe', projectId: t.projectId, since });
        sockets.push({ s, since });
      }
    })();
    await Promise.all([...writers, joiners]);
    const last = start + total;
    for (const { s, since } of sockets) {
      await waitFor('all events', () => s.seqs(t.projectId).at(-1) === last, 15_000);
      expect(s.seqs(t.projectId)).toEqual(range(since + 1, last));
      await s.close();
    }
  });

  test('a client that stops answering pings is dropped by the heartbeat', async () => {
    const s = await TestSocket.open(server.url, { token: a.token, autoPong: false });
    const started = Date.now();
    expect(await s.closed).toBe(1006);
    // Heartbeat every 300 ms; the bound rules out "never dropped", not a slow machine.
    expect(Date.now() - started).toBeLessThan(30_000);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/samokoder_ws_dropped_total\{reason="dead"\} [1-9]/);
    expect(metrics).toMatch(/samokoder_ws_connections \d+/);
  });
});

describe('WebSocket flow control (postgres)', () => {
  test('a slow client is closed with 4008 instead of growing the send buffer', async () => {
    const server = await startTestServer('postgres', { ...NO_WORKER, SAMOKODER_WS_MAX_BUFFERED_BYTES: 65_536 });
    try {
      const api = apiClient(server.url);
      const t = await seedTenant(server, api);
      const s = await TestSocket.open(server.url, { token: t.token });
      s.send({ type: 'subscribe', projectId: t.projectId, since: 0 });
      await s.next((f) => f.type === 'run.queued');
      // Stop reading: the kernel buffers fill, then the server's send buffer.
      (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const text = 'x'.repeat(7000);
      for (let i = 0; i < 20_000 && !server.logs.some((l) => l.includes('too slow')); i++) {
        await Promise.all(Array.from({ length: 20 }, () => publishEphemeral(server.ctx.db, { projectId: t.projectId, type: 'llm.delta', data: { stepSeq: 1, text } })));
      }
      expect(server.logs.some((l) => l.includes('too slow'))).toBe(true);
      (s.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await s.closed).toBe(4008);
    } finally {
      await server.close();
    }
  });
});

describe('WebSocket across nodes: two servers on one PostgreSQL', () => {
  let t: TestDatabase;
  let second: PgDatabase;
  const nodes: RunningServer[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    t = await createTestDatabase('postgres', { migrate: false });
    second = new PgDatabase({ connectionString: t.url!, poolSize: 5 });
    const masterKey = newMasterKeyText();
    for (const db of [t.db, second]) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-node-'));
      dirs.push(dir);
      nodes.push(
        await startServer({
          env: {},
          db,
          logger: createLogger({ level: 'silent' }),
          overrides: { ...NO_WORKER, PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dir, SAMOKODER_MASTER_KEY: masterKey, SAMOKODER_WORKSPACE_QUOTA: 'reactive' },
        }),
      );
    }
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await second.close();
    await t.cleanup();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('an event appended through node 1 reaches a socket on node 2 (LISTEN/NOTIFY)', async () => {
    const [n1, n2] = nodes as [RunningServer, RunningServer];
    const api1 = apiClient(n1.url);
    const reg = await api1('POST', '/api/auth/register', { body: { email: 'two-nodes@example.com', password: 'correct horse battery' } });
    const project = await api1('POST', '/api/projects', { token: reg.body.token, body: { prompt: 'x' } });
    const projectId: string = project.body.project.id;
    const s = await TestSocket.open(n2.url, { token: reg.body.token });
    s.send({ type: 'subscribe', projectId, since: 0 });
    await s.next((f) => f.type === 'subscribed');
    const e = await appendEvent(n1.ctx.db, { projectId, runId: null, ...fileWritten(1) });
    expect(await s.next((f) => f.seq === e.seq)).toMatchObject({ type: 'file.written', data: fileWritten(1).data });
    await publishEphemeral(n1.ctx.db, { projectId, type: 'llm.delta', data: { stepSeq: 1, text: 'from node 1' } });
    await s.next((f) => f.type === 'llm.delta');
    await s.close();
  });

  test('logout on node 1 closes the sockets opened with that token on node 2 with 4001; the user\'s other session streams on', async () => {
    const [n1, n2] = nodes as [RunningServer, RunningServer];
    const api1 = apiClient(n1.url);
    const creds = { email: 'revoked-socket@example.com', password: 'correct horse battery' };
    const reg = await api1('POST', '/api/auth/register', { body: creds });
    const other = await api1('POST', '/api/auth/login', { body: creds });
    const project = await api1('POST', '/api/projects', { token: reg.body.token, body: { prompt: 'x' } });
    const projectId: string = project.body.project.id;
    const [revoked, kept] = await Promise.all([TestSocket.open(n2.url, { token: reg.body.token }), TestSocket.open(n2.url, { queryToken: other.body.token })]);
    for (const s of [revoked, kept]) {
      s.send({ type: 'subscribe', projectId, since: 0 });
      await s.next((f) => f.type === 'subscribed');
    }
    expect((await api1('POST', '/api/auth/logout', { token: reg.body.token })).status).toBe(204);
    expect(await revoked.closed).toBe(4001);
    const e = await appendEvent(n1.ctx.db, { projectId, runId: null, ...fileWritten(2) });
    await kept.next((f) => f.seq === e.seq);
    expect(kept.closeCode).toBeUndefined();
    // An expiry set in SQL reaches the socket the same way (the trigger's notice, then a re-check).
    await n1.ctx.db.query('UPDATE auth_tokens SET expires_at = now() - interval \'1 second\' WHERE user_id = $1 AND revoked_at IS NULL', [reg.body.user.id]);
    expect(await kept.closed).toBe(4001);
  });

  test('a node shutting down closes its sockets with 1001; the client resumes on the other node from its seq', async () => {
    const [n1, n2] = nodes as [RunningServer, RunningServer];
    const api1 = apiClient(n1.url);
    const reg = await api1('POST', '/api/auth/register', { body: { email: 'failover@example.com', password: 'correct horse battery' } });
    const project = await api1('POST', '/api/projects', { token: reg.body.token, body: { prompt: 'x' } });
    const projectId: string = project.body.project.id;
    await appendEvent(n1.ctx.db, { projectId, runId: null, ...fileWritten(1) });
    const s = await TestSocket.open(n2.url, { token: reg.body.token });
    s.send({ type: 'subscribe', projectId, since: 0 });
    await s.next((f) => f.seq === 1);
    const stopped = n2.stop();
    expect(await s.closed).toBe(1001);
    await stopped;
    // Events appended while the client was away arrive after it resubscribes elsewhere.
    for (let i = 0; i < 3; i++) await appendEvent(n1.ctx.db, { projectId, runId: null, ...fileWritten(i) });
    const again = await TestSocket.open(n1.url, { token: reg.body.token });
    again.send({ type: 'subscribe', projectId, since: s.seqs(projectId).at(-1)! });
    await again.next((f) => f.seq === 4);
    expect(again.seqs(projectId)).toEqual([2, 3, 4]);
    await again.close();
  });
});
