import { DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startNodes, type Api, type Nodes } from '../helpers/nodes.js';
import { registerUser } from '../helpers/server.js';

/**
 * Each node caches session lookups (server/auth/session-cache.ts); these suites hold it to
 * "revocation is immediate everywhere": changes made on one node, or by SQL, reach every node's
 * cache through the database's notice, not after the cache's TTL.
 */

describe('session cache: two nodes on one PostgreSQL', () => {
  let nodes: Nodes;
  let t: TestDatabase;
  let apiA: Api;
  let apiB: Api;
  beforeAll(async () => {
    nodes = await startNodes('postgres', 2);
    ({ t } = nodes);
    [apiA, apiB] = nodes.apis as [Api, Api];
  });
  afterAll(() => nodes?.stop());

  // Node A refuses at once (logout drops its cache and waits for its own notice). Node B hears the
  // same commit's notice through its own LISTEN connection, usually before the next request but not
  // guaranteed: under load its request can be read first, so B is given the notice's travel time.
  test('a token revoked on node A is refused by A at once and by node B as soon as the notice arrives', async () => {
    for (let i = 0; i < 5; i++) {
      const { token } = await registerUser(apiA);
      const other = await apiA('POST', '/api/auth/login', { body: { email: (await apiA('GET', '/api/me', { token })).body.user.email, password: 'correct horse battery' } });
      // Both nodes have the session cached.
      expect((await apiB('GET', '/api/me', { token })).status).toBe(200);
      expect((await apiA('GET', '/api/me', { token })).status).toBe(200);
      expect((await apiA('POST', '/api/auth/logout', { token })).status).toBe(204);
      expect((await apiA('GET', '/api/me', { token })).status).toBe(401);
      const after = await eventually(async () => apiB('GET', '/api/projects', { token }).then((r) => `${r.status} ${r.body?.error?.code}`), '401 E_AUTH');
      expect(after).toBe('401 E_AUTH');
      // The user's other session still works on both nodes.
      expect((await apiB('GET', '/api/me', { token: other.body.token })).status).toBe(200);
      expect((await apiA('GET', '/api/me', { token: other.body.token })).status).toBe(200);
    }
  });

  test('changes made by SQL (expiry, plan) reach both nodes’ cached sessions', async () => {
    const { token, userId } = await registerUser(apiA);
    expect((await apiA('GET', '/api/me', { token })).body.user.planId).toBe('free');
    expect((await apiB('GET', '/api/me', { token })).body.user.planId).toBe('free');
    await t.db.query("UPDATE users SET plan_id = 'pro' WHERE id = $1", [userId]);
    const plan = async (api: typeof apiA) => ((await api('GET', '/api/me', { token })).body.user?.planId as string | undefined);
    expect(await eventually(() => plan(apiA), 'pro')).toBe('pro');
    expect(await eventually(() => plan(apiB), 'pro')).toBe('pro');
    await t.db.query("UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [userId]);
    const status = async (api: typeof apiA) => (await api('GET', '/api/me', { token })).status;
    expect(await eventually(() => status(apiA), 401)).toBe(401);
    expect(await eventually(() => status(apiB), 401)).toBe(401);
  });
});

describe.each(DATABASE_KINDS)('session cache on %s', (kind) => {
  let nodes: Nodes;
  let t: TestDatabase;
  let api: Api;
  beforeAll(async () => {
    nodes = await startNodes(kind, 1);
    ({ t } = nodes);
    [api] = nodes.apis as [Api];
  });
  afterAll(() => nodes?.stop());

  test('logout refuses the cached token at once; a revoke by SQL and a deleted user reach the cache', async () => {
    const first = await registerUser(api);
    expect((await api('GET', '/api/me', { token: first.token })).status).toBe(200);
    expect((await api('POST', '/api/auth/logout', { token: first.token })).status).toBe(204);
    expect((await api('GET', '/api/me', { token: first.token })).status).toBe(401);

    const second = await registerUser(api);
    expect((await api('GET', '/api/me', { token: second.token })).status).toBe(200);
    await t.db.query('UPDATE auth_tokens SET revoked_at = now() WHERE user_id = $1', [second.userId]);
    expect(await eventually(async () => (await api('GET', '/api/me', { token: second.token })).status, 401)).toBe(401);

    const third = await registerUser(api);
    expect((await api('GET', '/api/me', { token: third.token })).status).toBe(200);
    await t.db.query('DELETE FROM users WHERE id = $1', [third.userId]);
    expect(await eventually(async () => (await api('GET', '/api/me', { token: third.token })).status, 401)).toBe(401);
  });
});
