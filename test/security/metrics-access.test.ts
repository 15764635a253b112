import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'metrics-token-for-the-test-0123456789';

describe('/metrics on a server that listens beyond loopback', () => {
  let closed: TestServer;
  let guarded: TestServer;
  beforeAll(async () => {
    [closed, guarded] = await Promise.all([
      startTestServer('pglite', { HOST: '0.0.0.0' }),
      startTestServer('pglite', { HOST: '0.0.0.0', SAMOKODER_METRICS_TOKEN: TOKEN }),
    ]);
  });
  afterAll(async () => {
    await closed?.close();
    await guarded?.close();
  });

  test('without SAMOKODER_METRICS_TOKEN it answers 403 to everyone, says what to set, and says so at start', async () => {
    const api = apiClient(closed.url);
    const res = await api('GET', '/metrics');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('E_FORBIDDEN');
    expect(res.body.error.message).toContain('SAMOKODER_METRICS_TOKEN');
    expect(res.text).not.toContain('samokoder_http_requests_total');
    expect(closed.logs.some((l) => l.includes('SAMOKODER_METRICS_TOKEN is not set'))).toBe(true);
    expect((await api('GET', '/healthz')).status).toBe(200);
  });

  test('with a token: none or a wrong one is 401 E_AUTH; the right bearer token gets the metrics', async () => {
    const api = apiClient(guarded.url);
    for (const token of [undefined, 'wrong-token', `${TOKEN}x`]) {
      const res = await api('GET', '/metrics', token ? { token } : {});
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('E_AUTH');
      expect(res.text).not.toContain('process_cpu_user_seconds_total');
    }
    const ok = await api('GET', '/metrics', { token: TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('process_cpu_user_seconds_total');
  });
});

describe('/metrics on loopback', () => {
  test('with a token configured, loopback does not waive it', async () => {
    const server = await startTestServer('pglite', { SAMOKODER_METRICS_TOKEN: TOKEN });
    try {
      const api = apiClient(server.url);
      expect((await api('GET', '/metrics')).status).toBe(401);
      expect((await api('GET', '/metrics', { token: TOKEN })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
