import { routeTable } from '../../server/app.js';
import type { AnyRoute } from '../../server/http/route.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, seedTenant, snapshot, type Api, type Tenant } from './fixtures.js';
import { buildPath, pathParamNames, routeKey, sampleRequest, withQuery } from './route-samples.js';

/**
 * Tenancy, generated from the route table: for every route that takes an id, user B sends a
 * valid request naming user A's real resources and gets 404 E_NOT_FOUND (exactly what a missing
 * id gets, so nothing leaks), and neither the database nor A's workspace changes.
 */
describe('tenancy: every route with an id, user B with user A’s ids', () => {
  let server: TestServer;
  let api: Api;
  let a: Tenant;
  let b: Tenant;
  let routes: AnyRoute[];
  beforeAll(async () => {
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_GENERATE_RATE_LIMIT_USER: 10_000 });
    api = apiClient(server.url);
    [a, b] = [await seedTenant(server, api), await seedTenant(server, api)];
    routes = routeTable(server.ctx).filter((r) => pathParamNames(r.path).length > 0);
  });
  afterAll(async () => {
    await server.close();
  });

  test('the table has the id routes this suite must cover', () => {
    const keys = routes.map(routeKey);
    expect(keys).toEqual(expect.arrayContaining(['GET /api/projects/:id', 'DELETE /api/projects/:id', 'POST /api/projects/:id/generate', 'GET /api/projects/:id/files/*path', 'POST /api/projects/:id/export', 'DELETE /api/user/api-keys/:id']));
    expect(keys.length).toBeGreaterThanOrEqual(15);
  });

  test('each one answers B with 404 E_NOT_FOUND and changes nothing', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const sample = sampleRequest(r, a);
      // The request must be valid in every other way, so the 404 can only come from ownership.
      for (const [part, schema, value] of [['params', r.params, sample.params], ['query', r.query, sample.query], ['body', r.body, sample.body]] as const) {
        if (schema && !schema.safeParse(value).success) failures.push(`${routeKey(r)}: the sample ${part} is invalid`);
      }
      const before = await snapshot(server, a);
      const res = await api(r.method.toUpperCase(), withQuery(buildPath(r, sample.params), sample.query), { token: b.token, ...(sample.body ? { body: sample.body } : {}) });
      if (res.status !== 404 || res.body?.error?.code !== 'E_NOT_FOUND') failures.push(`${routeKey(r)}: ${res.status} ${res.text.slice(0, 200)}`);
      if ((await snapshot(server, a)) !== before) failures.push(`${routeKey(r)}: state changed`);
    }
    expect(failures).toEqual([]);
  });

  test('the same requests from A succeed (the ids are real), read-only ones at least', async () => {
    for (const r of routes.filter((x) => x.method === 'get')) {
      const sample = sampleRequest(r, a);
      const res = await api('GET', withQuery(buildPath(r, sample.params), sample.query), { token: a.token });
      expect([routeKey(r), res.status]).toEqual([routeKey(r), 200]);
    }
  });

  test("lists never show another user's resources", async () => {
    const projects = await api('GET', '/api/projects', { token: b.token });
    expect(projects.body.projects.map((p: { id: string }) => p.id)).toEqual([b.projectId]);
    const keys = await api('GET', '/api/user/api-keys', { token: b.token });
    expect(keys.body.keys.map((k: { id: string }) => k.id)).toEqual([b.keyId]);
  });
});
