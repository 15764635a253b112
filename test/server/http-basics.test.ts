import http from 'node:http';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';

describe('HTTP basics (ops endpoints, bad input, OpenAPI, rate limits)', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer('pglite', { SAMOKODER_BODY_LIMIT: '16kb' });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test('/healthz and /readyz answer 200', async () => {
    expect(await api('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await api('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  test('/readyz is 503 E_UNAVAILABLE while migrations are missing', async () => {
    const applied = await server.ctx.db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations');
    await server.ctx.db.query('DELETE FROM schema_migrations');
    try {
      const res = await api('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('E_UNAVAILABLE');
    } finally {
      for (const m of applied.rows) await server.ctx.db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    expect((await api('GET', '/readyz')).status).toBe(200);
  });

  test('/metrics exposes request counts by route pattern and process metrics', async () => {
    await api('GET', '/healthz');
    const res = await api('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(res.text).toMatch(/samokoder_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.text).toContain('samokoder_http_request_duration_seconds_bucket');
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  test('idle keep-alive connections outlive a load balancer\'s 60 s (no 502 from a reused socket)', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const header = await new Promise<string | undefined>((resolve, reject) => {
        http.get(`${server.url}/healthz`, { agent }, (res) => {
          res.resume();
          resolve(res.headers['keep-alive'] as string | undefined);
        }).once('error', reject);
      });
      expect(header).toBe('timeout=65');
    } finally {
      agent.destroy();
    }
  });

  test('every response carries a request id; a sane incoming one is kept', async () => {
    const res = await api('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const bad = await api('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('unknown routes get a JSON 404 E_NOT_FOUND', async () => {
    const res = await api('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'E_NOT_FOUND' });
    expect(res.body.error.message).toContain('/api/nope');
  });

  const register = '/api/auth/register';
  test.each([
    ['malformed JSON', { rawBody: '{"email": ', headers: { 'content-type': 'application/json' } }, 400, 'E_BAD_JSON'],
    ['a JSON array', { body: [1, 2] }, 400, 'E_VALIDATION'],
    ['a JSON string', { rawBody: '"hi"', headers: { 'content-type': 'application/json' } }, 400, 'E_VALIDATION'],
    ['no body', {}, 400, 'E_VALIDATION'],
    ['a form body', { rawBody: 'email=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400, 'E_VALIDATION'],
    ['wrong types', { body: { email: 42, password: ['x'] } }, 400, 'E_VALIDATION'],
    ['a missing field', { body: { email: 'a@example.com' } }, 400, 'E_VALIDATION'],
    ['a bad email', { body: { email: 'not-an-email', password: 'long enough password' } }, 400, 'E_VALIDATION'],
    ['a short password', { body: { email: 'a@example.com', password: 'short' } }, 400, 'E_VALIDATION'],
    ['NUL and unicode', { body: { email: 'a\u0000@exa\u202emple.com', password: 'long enough password' } }, 400, 'E_VALIDATION'],
    ['deep nesting', { rawBody: '['.repeat(5000) + ']'.repeat(5000), headers: { 'content-type': 'application/json' } }, 400, 'E_VALIDATION'],
    ['an oversize body', { body: { email: 'a@example.com', password: 'x'.repeat(20_000) } }, 413, 'E_PAYLOAD_TOO_LARGE'],
    ['a non-UTF-8 charset', { rawBody: '{}', headers: { 'content-type': 'application/json; charset=latin9' } }, 415, 'E_UNSUPPORTED_MEDIA_TYPE'],
  ] as const)('register with %s → %p %s, nothing written', async (_name, options, status, code) => {
    const before = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    const res = await api('POST', register, options as Parameters<typeof api>[2]);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message.length).toBeGreaterThan(10);
    const after = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  test('validation messages name the field and what it needs', async () => {
    const res = await api('POST', register, { body: { email: 'a@example.com', password: 'short' } });
    expect(res.body.error.message).toMatch(/password: must be at least 10 characters/);
    expect(res.body.error.details.fields[0].path).toBe('password');
  });

  test('the OpenAPI document lists every mounted route, with schemas', async () => {
    const res = await api('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const { routeTable } = await import('../../server/app.js');
    for (const r of routeTable(server.ctx)) {
      const p = r.path.replace(/[:*]([A-Za-z_]\w*)/g, '{$1}');
      expect(res.body.paths[p]?.[r.method]).toBeDefined();
    }
    const registerOp = res.body.paths['/api/auth/register'].post;
    expect(registerOp.requestBody.content['application/json'].schema.required).toEqual(['email', 'password']);
    expect(registerOp.security).toEqual([]);
  });
});

describe('sign-in rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('pglite', { SAMOKODER_AUTH_RATE_LIMIT: 3, SAMOKODER_AUTH_RATE_WINDOW_SECONDS: 60 });
  });
  afterAll(async () => {
    await server.close();
  });

  test('the fourth attempt in a window is 429 E_RATE_LIMITED with Retry-After', async () => {
    const api = apiClient(server.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await api('POST', '/api/auth/login', { body: { email: 'x@example.com', password: 'whatever password' } });
      statuses.push(res.status);
      if (i === 3) {
        expect(res.body.error.code).toBe('E_RATE_LIMITED');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
