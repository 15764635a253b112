import { EventFeed } from '../../events/event-feed.js';
import { EventsRepo } from '../../events/event-log.js';
import { SerializedJson } from '../../server/http/serialized-json.js';
import { ProjectListCache } from '../../server/projects/list-cache.js';
import { createTestDatabase, DATABASE_KINDS } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startNodes, type Api, type Nodes } from '../helpers/nodes.js';
import { registerUser } from '../helpers/server.js';

/**
 * Each node caches pages of GET /api/projects (server/projects/list-cache.ts). These suites hold
 * it to "a list never lags a change longer than the database's notice takes": the node that made
 * a change answers with it at once; other nodes and changes made by SQL or by a run's events
 * reach the cache through the notices.
 */

interface Listed {
  id: string;
  name: string;
  webhookUrl: string | null;
  lastEventSeq: number;
}

const list = async (api: Api, token: string, query = ''): Promise<Listed[]> => {
  const res = await api('GET', `/api/projects${query}`, { token });
  expect(res.status).toBe(200);
  return res.body.projects as Listed[];
};
const names = async (api: Api, token: string, query = ''): Promise<string> => (await list(api, token, query)).map((p) => p.name).join(',');
const create = async (api: Api, token: string, name: string): Promise<string> => {
  const res = await api('POST', '/api/projects', { token, body: { name, prompt: 'a todo app' } });
  expect(res.status).toBe(201);
  return res.body.project.id as string;
};

describe.each(DATABASE_KINDS)('project-list cache on %s', (kind) => {
  let nodes: Nodes;
  let api: Api;
  beforeAll(async () => {
    nodes = await startNodes(kind, 1);
    [api] = nodes.apis as [Api];
  });
  afterAll(() => nodes?.stop());

  test("this node's own changes are in its next answer; every page of the user is dropped", async () => {
    const { token } = await registerUser(api);
    expect(await names(api, token)).toBe('');
    const first = await create(api, token, 'first');
    expect(await names(api, token)).toBe('first');
    await create(api, token, 'second');
    expect(await names(api, token)).toBe('second,first');
    expect(await names(api, token, '?limit=1')).toBe('second');
    const hook = await api('PUT', `/api/projects/${first}/webhook`, { token, body: { url: 'https://hooks.example.com/samokoder' } });
    expect(hook.status).toBe(200);
    expect((await list(api, token)).find((p) => p.id === first)?.webhookUrl).toBe('https://hooks.example.com/samokoder');
    expect((await api('DELETE', `/api/projects/${first}`, { token })).status).toBe(204);
    expect(await names(api, token)).toBe('second');
    expect(await names(api, token, '?limit=1')).toBe('second');
  });

  test('a page from the cache is the same JSON with its ETag, and If-None-Match gets a 304', async () => {
    const { token } = await registerUser(api);
    await create(api, token, 'tagged');
    const first = await api('GET', '/api/projects', { token }); // read from the database
    const second = await api('GET', '/api/projects', { token }); // from the cache
    expect(second.text).toBe(first.text);
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const etag = second.headers.get('etag');
    expect(etag).toMatch(/^W\/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$/);
    expect(first.headers.get('etag')).toBe(etag);
    // (fetch adds Cache-Control: no-cache to a conditional request unless it has its own.)
    const conditional = { 'if-none-match': etag!, 'cache-control': 'max-age=0' };
    expect((await api('GET', '/api/projects', { token, headers: conditional })).status).toBe(304);
    await create(api, token, 'another');
    const changed = await api('GET', '/api/projects', { token, headers: conditional });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  test('answers come from the cache until a notice says the list moved (events, SQL), and stay per user', async () => {
    const { token, userId } = await registerUser(api);
    const other = await registerUser(api);
    const projectId = await create(api, token, 'mine');
    await create(api, other.token, 'theirs');
    expect(await names(api, token)).toBe('mine');
    expect(await names(api, other.token)).toBe('theirs');
    // Moving the seq by hand sends no notice (only an event append does): the cached page is served.
    await nodes.t.db.query('UPDATE projects SET last_event_seq = last_event_seq + 5 WHERE id = $1', [projectId]);
    expect((await list(api, token))[0]!.lastEventSeq).toBe(0);
    // A run's event is announced; the page is read again, with the seq as it now is.
    await new EventsRepo(nodes.t.db).append({ projectId, type: 'run.queued', data: {} });
    expect(await eventually(async () => (await list(api, token))[0]!.lastEventSeq, 6)).toBe(6);
    // An operator's SQL goes through the trigger.
    await nodes.t.db.query("UPDATE projects SET name = 'renamed' WHERE user_id = $1", [userId]);
    expect(await eventually(() => names(api, token), 'renamed')).toBe('renamed');
    expect(await names(api, other.token)).toBe('theirs');
  });
});

test('a page read before a drop is not cached, and a page expires after its TTL', async () => {
  const t = await createTestDatabase('postgres');
  const feed = new EventFeed(t.db, undefined, { resyncMs: 0 });
  const cache = await ProjectListCache.start(t.db, feed);
  try {
    const now = new Date();
    const page = { body: new SerializedJson({ projects: [] }), projectIds: ['p1'] };
    const before = cache.currentGeneration;
    cache.drop('someone-else'); // any drop: the read may have missed the change it announced
    cache.remember('u1', 'k', page, before, now);
    expect(cache.get('u1', 'k', now)).toBeUndefined();
    cache.remember('u1', 'k', page, cache.currentGeneration, now);
    expect(cache.get('u1', 'k', now)?.bytes.toString()).toBe('{"projects":[]}');
    expect(cache.get('u1', 'k', new Date(now.getTime() + 10_001))).toBeUndefined();
    // Its only page expired: the user holds no entry any more (no slow leak of users who listed once).
    expect(cache.userCount).toBe(0);
    expect(cache.size).toBe(0);
  } finally {
    await cache.stop();
    await t.cleanup();
  }
});

test('the cache holds at most its byte budget, forgetting the users cached longest ago first', async () => {
  const t = await createTestDatabase('postgres');
  const feed = new EventFeed(t.db, undefined, { resyncMs: 0 });
  const cache = await ProjectListCache.start(t.db, feed, { maxBytes: 100 });
  try {
    const now = new Date();
    const page = (n: number) => ({ body: new SerializedJson({ p: 'x'.repeat(n) }), projectIds: [] }); // n + 8 bytes
    cache.remember('u1', 'a', page(32), cache.currentGeneration, now);
    cache.remember('u2', 'a', page(32), cache.currentGeneration, now);
    expect(cache.size).toBe(80);
    cache.remember('u2', 'a', page(22), cache.currentGeneration, now); // replacing a page frees its bytes
    expect(cache.size).toBe(70);
    cache.remember('u3', 'a', page(32), cache.currentGeneration, now);
    expect(cache.size).toBe(70);
    expect(cache.get('u1', 'a', now)).toBeUndefined();
    expect(cache.get('u2', 'a', now)).toBeDefined();
    expect(cache.get('u3', 'a', now)).toBeDefined();
    cache.drop('u2');
    expect(cache.size).toBe(40);
  } finally {
    await cache.stop();
    await t.cleanup();
  }
});

describe('project-list cache: two nodes on one PostgreSQL', () => {
  let nodes: Nodes;
  let apiA: Api;
  let apiB: Api;
  beforeAll(async () => {
    nodes = await startNodes('postgres', 2);
    [apiA, apiB] = nodes.apis as [Api, Api];
  });
  afterAll(() => nodes?.stop());

  test("a change on node A reaches node B's cached list as soon as the notice arrives", async () => {
    const { token } = await registerUser(apiA);
    const projectId = await create(apiA, token, 'one');
    expect(await names(apiB, token)).toBe('one');
    await create(apiA, token, 'two');
    expect(await eventually(() => names(apiB, token), 'two,one')).toBe('two,one');
    await new EventsRepo(nodes.t.db).append({ projectId, type: 'run.queued', data: {} });
    const seqOnB = async () => (await list(apiB, token)).find((p) => p.id === projectId)!.lastEventSeq;
    expect(await eventually(seqOnB, 1)).toBe(1);
    expect((await apiA('DELETE', `/api/projects/${projectId}`, { token })).status).toBe(204);
    expect(await eventually(() => names(apiB, token), 'two')).toBe('two');
  });
});
