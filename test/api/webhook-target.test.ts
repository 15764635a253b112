import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, seedTenant, type Api, type Tenant } from './fixtures.js';

describe('PUT /api/projects/:id/webhook refuses non-public targets (SSRF)', () => {
  let strict: TestServer;
  let open: TestServer;
  let api: Api;
  let openApi: Api;
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    // The default (hosted) setting, and a self-hosted one that allows private networks.
    [strict, open] = await Promise.all([
      startTestServer('pglite', { ...NO_WORKER }),
      startTestServer('pglite', { ...NO_WORKER, SAMOKODER_WEBHOOK_ALLOW_PRIVATE: true }),
    ]);
    api = apiClient(strict.url);
    openApi = apiClient(open.url);
    [a, b] = await Promise.all([seedTenant(strict, api), seedTenant(open, openApi)]);
  });
  afterAll(async () => {
    await Promise.all([strict?.close(), open?.close()]);
  });

  const privateUrls = [
    'http://127.0.0.1:5432/',
    'http://[::1]/hook',
    'http://0x7f000001/hook',
    'http://2130706433/hook',
    'http://0177.0.0.1/hook',
    'http://10.0.0.5/hook',
    'http://192.168.1.10/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://localhost:3000/hook',
    'http://app.localhost/hook',
  ];
  const alwaysRefused = ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/', 'http://0.0.0.0:3000/', 'http://[fe80::1]/'];

  test.each([...privateUrls, ...alwaysRefused])('%s → 400 E_WEBHOOK_TARGET naming the variable; nothing stored', async (url) => {
    const res = await api('PUT', `/api/projects/${a.projectId}/webhook`, { token: a.token, body: { url } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('E_WEBHOOK_TARGET');
    expect(res.body.error.message).toMatch(/SAMOKODER_WEBHOOK_ALLOW_PRIVATE/);
    const got = await api('GET', `/api/projects/${a.projectId}`, { token: a.token });
    expect(got.body.project.webhookUrl).toBeNull();
  });

  test('a public name is accepted (it is checked on what it resolves to at delivery)', async () => {
    const res = await api('PUT', `/api/projects/${a.projectId}/webhook`, { token: a.token, body: { url: 'https://hooks.example.com/x' } });
    expect(res.status).toBe(200);
    expect(res.body.project.webhookUrl).toBe('https://hooks.example.com/x');
  });

  test('with SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true private targets are accepted; link-local and metadata still are not', async () => {
    for (const url of privateUrls) {
      const res = await openApi('PUT', `/api/projects/${b.projectId}/webhook`, { token: b.token, body: { url } });
      expect({ url, status: res.status }).toEqual({ url, status: 200 });
    }
    for (const url of alwaysRefused) {
      const res = await openApi('PUT', `/api/projects/${b.projectId}/webhook`, { token: b.token, body: { url } });
      expect({ url, status: res.status, code: res.body.error?.code }).toEqual({ url, status: 400, code: 'E_WEBHOOK_TARGET' });
      expect(res.body.error.message).toMatch(/refused even with SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true/);
    }
  });
});
