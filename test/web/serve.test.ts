// The service serves the web UI at `/` with an SPA fallback, and keeps JSON 404s for the API.
import { apiClient } from '../helpers/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ensureWebBuild } from './web-build.js';

let server: TestServer;

beforeAll(async () => {
  ensureWebBuild();
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off' });
});
afterAll(() => server?.close());

test('GET / and any UI route answer the single-page app', async () => {
  for (const p of ['/', '/login', '/projects/0b8d5f5e-0000-4000-8000-000000000000', '/keys']) {
    const res = await fetch(server.url + p, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('<div id="app">');
  }
});

test('assets are served with a long cache', async () => {
  const html = await (await fetch(server.url + '/')).text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(asset).toBeDefined();
  const res = await fetch(server.url + asset);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/javascript/);
  expect(res.headers.get('cache-control')).toMatch(/max-age=31536000/);
});

test('unknown API paths stay JSON 404s; a missing asset is not the app', async () => {
  const api = apiClient(server.url);
  const res = await api('GET', '/api/nope', { headers: { accept: 'text/html' } });
  expect(res.status).toBe(404);
  expect(res.body).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
  const asset = await fetch(server.url + '/assets/missing.js');
  expect(asset.status).toBe(404);
  expect((await api('GET', '/healthz')).status).toBe(200);
});
