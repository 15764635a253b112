import { EventFeed, followProjectEvents } from '../../events/event-feed.js';
import { capEphemeral, EventsRepo, MAX_NOTICE_BYTES, publishEphemeral, type EphemeralEvent, type EventNotice, EVENTS_CHANNEL, parseEventNotice } from '../../events/event-log.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { newProject, newUser, sleep, waitFor } from './fixtures.js';

describe.each(DATABASE_KINDS)('event log on %s', (kind) => {
  let t: TestDatabase;
  let events: EventsRepo;
  let feed: EventFeed;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    events = new EventsRepo(t.db);
    // No safety re-read: the tests below prove delivery by NOTIFY alone.
    feed = new EventFeed(t.db, undefined, { resyncMs: 0 });
    await feed.start();
  });
  afterAll(async () => {
    await feed.stop();
    await t.cleanup();
  });

  test('20 concurrent appends to one project get seqs 1..20 with no gap', async () => {
    const { user, projectId } = await newProject(t.db);
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.db.transaction((tx) => new EventsRepo(tx).append({ projectId, type: 'step.started', data: { i } })),
      ),
    );
    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const stored = await events.listSince(projectId, user.id, 0, 100);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await events.lastSeq(projectId, user.id)).toBe(20);
  });

  test('a rolled-back append leaves no gap', async () => {
    const { user, projectId } = await newProject(t.db);
    expect((await events.append({ projectId, type: 'a' })).seq).toBe(1);
    await expect(
      t.db.transaction(async (tx) => {
        await new EventsRepo(tx).append({ projectId, type: 'rolled-back' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect((await events.append({ projectId, runId: null, type: 'b', data: { x: 1 } })).seq).toBe(2);
    const stored = await events.listSince(projectId, user.id, 0, 10);
    expect(stored.map((e) => [e.seq, e.type])).toEqual([[1, 'a'], [2, 'b']]);
    expect(stored[1]).toMatchObject({ projectId, runId: null, data: { x: 1 } });
    expect(stored[1]!.at).toBeInstanceOf(Date);
  });

  test('listSince and lastSeq are scoped by owner; appending to a missing project is E_NOT_FOUND', async () => {
    const { user, projectId } = await newProject(t.db);
    const stranger = await newUser(t.db);
    await events.append({ projectId, type: 'x' });
    await events.append({ projectId, type: 'y' });
    expect((await events.listSince(projectId, user.id, 1, 10)).map((e) => e.type)).toEqual(['y']);
    expect(await events.listSince(projectId, stranger.id, 0, 10)).toEqual([]);
    expect(await events.lastSeq(projectId, stranger.id)).toBeUndefined();
    await expect(events.append({ projectId: '00000000-0000-0000-0000-000000000000', type: 'x' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  test('the NOTIFY of an append is delivered on commit only, never on rollback', async () => {
    const { projectId } = await newProject(t.db);
    const seen: number[] = [];
    const unsubscribe = feed.subscribe(projectId, { onDurable: (seq) => seen.push(seq) });
    try {
      await expect(
        t.db.transaction(async (tx) => {
          await new EventsRepo(tx).append({ projectId, type: 'never' });
          throw new Error('rollback');
        }),
      ).rejects.toThrow();
      await t.db.transaction(async (tx) => {
        await new EventsRepo(tx).append({ projectId, type: 'kept' });
        await sleep(150); // the transaction is still open: nothing may be delivered yet
        expect(seen).toEqual([]);
      });
      await waitFor('the notice', () => seen.length > 0, 3000);
      await sleep(100);
      expect(seen).toEqual([1]);
    } finally {
      unsubscribe();
    }
  });

  test('appendMany: consecutive seqs in order, interleaved with concurrent appends without a gap, one notice per batch', async () => {
    const { user, projectId } = await newProject(t.db);
    const seen: number[] = [];
    const unsubscribe = feed.subscribe(projectId, { onDurable: (seq) => seen.push(seq) });
    try {
      await Promise.all([
        ...Array.from({ length: 5 }, (_, b) => events.appendMany(projectId, null, [{ type: `b${b}.1` }, { type: `b${b}.2`, data: { b } }, { type: `b${b}.3` }])),
        ...Array.from({ length: 5 }, (_, i) => t.db.transaction((tx) => new EventsRepo(tx).append({ projectId, type: 'single', data: { i } }))),
      ]);
      const stored = await events.listSince(projectId, user.id, 0, 100);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      for (let b = 0; b < 5; b++) {
        const first = stored.findIndex((e) => e.type === `b${b}.1`);
        expect(stored.slice(first, first + 3).map((e) => e.type)).toEqual([`b${b}.1`, `b${b}.2`, `b${b}.3`]);
        expect(stored[first + 1]!.data).toEqual({ b });
      }
      await waitFor('the notices', () => seen.includes(20), 3000);
      await sleep(100);
      expect(seen.length).toBe(10);
      await expect(events.appendMany('00000000-0000-0000-0000-000000000000', null, [{ type: 'x' }])).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    } finally {
      unsubscribe();
    }
  });

  test('ephemeral events reach the feed without being stored, capped to the NOTIFY limit', async () => {
    const { user, projectId } = await newProject(t.db);
    const got: EphemeralEvent[] = [];
    const unsubscribe = feed.subscribe(projectId, { onEphemeral: (e) => got.push(e) });
    try {
      await publishEphemeral(t.db, { projectId, runId: null, type: 'llm.delta', data: { text: 'Hello' } });
      await publishEphemeral(t.db, { projectId, type: 'command.output', data: { stream: 'stdout', text: 'é'.repeat(20_000) } });
      await waitFor('two ephemeral events', () => got.length === 2, 3000);
    } finally {
      unsubscribe();
    }
    expect(got[0]).toMatchObject({ projectId, type: 'llm.delta', data: { text: 'Hello' } });
    expect(got[0]!.truncated).toBeUndefined();
    expect(got[1]).toMatchObject({ type: 'command.output', truncated: true, data: { stream: 'stdout' } });
    expect((got[1]!.data as { text: string }).text.length).toBeGreaterThan(1000);
    expect(await events.listSince(projectId, user.id, 0, 10)).toEqual([]);
  });

  test('capEphemeral fits any event under the limit', () => {
    const at = new Date();
    const check = (data: unknown): EphemeralEvent => {
      const e = capEphemeral({ projectId: 'p', runId: null, type: 't', data, at });
      const notice: EventNotice = { kind: 'ephemeral', event: e };
      expect(Buffer.byteLength(JSON.stringify(notice))).toBeLessThanOrEqual(MAX_NOTICE_BYTES);
      return e;
    };
    expect(check({ a: 'x'.repeat(100) }).truncated).toBeUndefined();
    expect(check({ a: '\u0000'.repeat(9000), b: '😀'.repeat(5000) }).truncated).toBe(true);
    expect(check({ nested: { deep: 'x'.repeat(10_000) } })).toMatchObject({ data: {}, truncated: true });
    expect(check('x'.repeat(10_000))).toMatchObject({ data: {}, truncated: true });
  });

  test('malformed notices are ignored', () => {
    expect(parseEventNotice('not json')).toBeUndefined();
    expect(parseEventNotice('{"kind":"durable","projectId":1}')).toBeUndefined();
    expect(EVENTS_CHANNEL).toBe('events');
  });

  test('follow: replay then live, racing concurrent appends, with no gap and no duplicate at the seam', async () => {
    const { user, projectId } = await newProject(t.db);
    for (let i = 0; i < 15; i++) await events.append({ projectId, type: 'before', data: { i } });
    const delivered: number[] = [];
    // Writers keep appending while the subscriber replays and switches to live events.
    const writers = Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 10; i++) {
          await t.db.transaction((tx) => new EventsRepo(tx).append({ projectId, type: 'during' }));
          await sleep(Math.random() * 5);
        }
      }),
    );
    const following = await followProjectEvents({
      feed,
      events,
      projectId,
      userId: user.id,
      since: 5,
      batchSize: 7, // several pages of replay
      onEvent: async (e) => {
        delivered.push(e.seq);
        await sleep(1); // a slow consumer
      },
    });
    await writers;
    await events.append({ projectId, type: 'after' });
    // 15 + 4 × 10 + 1 = 56 events; the subscriber had 5.
    try {
      await waitFor('all events', () => delivered.length >= 51, 10_000);
      await sleep(100);
    } finally {
      following.stop();
    }
    expect(delivered).toEqual(Array.from({ length: 51 }, (_, i) => i + 6));
    expect(following.cursor).toBe(56);
  });

  test("a lost notice is made up by the feed's shared re-read, for every follower of the project", async () => {
    const resyncing = new EventFeed(t.db, undefined, { resyncMs: 100 });
    await resyncing.start();
    const a = await newProject(t.db);
    const b = await newProject(t.db);
    const seen = new Map<string, number[][]>([[a.projectId, []], [b.projectId, []]]);
    const followers = await Promise.all(
      [a, a, a, b, b].map(({ user, projectId }) => {
        const delivered: number[] = [];
        seen.get(projectId)!.push(delivered);
        return followProjectEvents({ feed: resyncing, events, projectId, userId: user.id, since: 0, onEvent: (e) => void delivered.push(e.seq) });
      }),
    );
    try {
      // An event committed without its NOTIFY, as when the LISTEN connection was down.
      await t.db.query(
        `WITH bump AS (UPDATE projects SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING id, last_event_seq)
         INSERT INTO events (project_id, seq, type, data) SELECT id, last_event_seq, 'silent', '{}' FROM bump`,
        [a.projectId],
      );
      await waitFor('the re-read', () => seen.get(a.projectId)!.every((d) => d.length === 1), 5000);
      expect(seen.get(a.projectId)).toEqual([[1], [1], [1]]);
      expect(seen.get(b.projectId)).toEqual([[], []]);
    } finally {
      for (const f of followers) f.stop();
      await resyncing.stop();
    }
  });

  test("follow refuses another user's project", async () => {
    const { projectId } = await newProject(t.db);
    const stranger = await newUser(t.db);
    await expect(
      followProjectEvents({ feed, events, projectId, userId: stranger.id, since: 0, onEvent: () => undefined }),
    ).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(feed.subscriberCount).toBe(0);
  });
});
