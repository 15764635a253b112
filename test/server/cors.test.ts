import { WebSocket } from 'ws';
import { loadConfig } from '../../core/config.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';

const FRONT_END = 'https://app.example.com';
const DEV_FRONT_END = 'http://localhost:5173';
const FOREIGN = 'https://evil.example.net';

/** Opens a WebSocket to /ws with the given Origin (none: undefined); resolves 'open' or the refusal's HTTP status. */
function openSocket(baseUrl: string, token: string, origin: string | undefined): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`, origin === undefined ? {} : { origin });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Every Access-Control-* header of a response. */
function corsHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-')));
}

describe('CORS for separate front ends', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer('pglite', { SAMOKODER_CORS_ORIGINS: `${FRONT_END}, ${DEV_FRONT_END}/` });
    api = apiClient(server.url);
    ({ token } = await registerUser(api));
  });
  afterAll(async () => {
    await server.close();
  });

  test('a listed origin is echoed with Vary: Origin, on success and on an error response', async () => {
    const ok = await api('GET', '/api/projects', { token, headers: { origin: FRONT_END } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    expect(ok.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/i);
    // Bearer tokens, not cookies: credentials are never allowed.
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const unauthorised = await api('GET', '/api/projects', { headers: { origin: DEV_FRONT_END } });
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('access-control-allow-origin')).toBe(DEV_FRONT_END);
  });

  test('a preflight from a listed origin answers the methods, Authorization and Content-Type, with a max-age', async () => {
    const res = await fetch(`${server.url}/api/projects`, {
      method: 'OPTIONS',
      headers: { origin: FRONT_END, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    expect(res.headers.get('access-control-allow-methods')?.split(',')).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'DELETE']));
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  test('an unlisted origin gets no CORS headers, yet the request itself works (non-browser clients)', async () => {
    const res = await api('GET', '/api/projects', { token, headers: { origin: FOREIGN } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res.headers)).toEqual({});
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    // A look-alike of a listed origin (other port, other scheme) is not listed.
    for (const origin of ['https://app.example.com:8443', 'http://app.example.com', 'null']) {
      expect(corsHeaders((await api('GET', '/healthz', { headers: { origin } })).headers)).toEqual({});
    }
    const preflight = await fetch(`${server.url}/api/projects`, {
      method: 'OPTIONS',
      headers: { origin: FOREIGN, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
    });
    await preflight.arrayBuffer();
    expect(corsHeaders(preflight.headers)).toEqual({});
  });

  test('the WebSocket opens from a listed origin, the service\'s own, or with no Origin (CLI); an unlisted origin gets 403', async () => {
    expect(await openSocket(server.url, token, FRONT_END)).toBe('open');
    expect(await openSocket(server.url, token, server.url)).toBe('open');
    expect(await openSocket(server.url, token, undefined)).toBe('open');
    expect(await openSocket(server.url, token, FOREIGN)).toBe(403);
    expect(await openSocket(server.url, token, 'http://127.0.0.1:1')).toBe(403);
  });
});

describe('CORS off by default (same origin only)', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer('pglite');
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test('no origin gets CORS headers, on a request or a preflight', async () => {
    expect(corsHeaders((await api('GET', '/healthz', { headers: { origin: FRONT_END } })).headers)).toEqual({});
    const preflight = await fetch(`${server.url}/api/projects`, {
      method: 'OPTIONS',
      headers: { origin: FRONT_END, 'access-control-request-method': 'POST' },
    });
    await preflight.arrayBuffer();
    expect(corsHeaders(preflight.headers)).toEqual({});
  });

  test('the WebSocket refuses a foreign Origin and accepts the service\'s own and none', async () => {
    const { token } = await registerUser(api);
    expect(await openSocket(server.url, token, FRONT_END)).toBe(403);
    expect(await openSocket(server.url, token, server.url)).toBe('open');
    expect(await openSocket(server.url, token, undefined)).toBe('open');
  });
});

describe('SAMOKODER_CORS_ORIGINS validation', () => {
  const fails = (value: string) => () => loadConfig({ SAMOKODER_CORS_ORIGINS: value });

  test('a wildcard is refused at start-up, naming the variable', () => {
    for (const value of ['*', `${FRONT_END},*`, 'https://*.example.com']) {
      expect(fails(value)).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/SAMOKODER_CORS_ORIGINS.*wildcard/) }));
    }
  });

  test('an entry with a path, query, credentials or another scheme is refused; exact origins are normalised', () => {
    for (const value of ['https://app.example.com/app', 'https://app.example.com?x=1', 'https://u:p@app.example.com', 'ftp://app.example.com', 'app.example.com']) {
      expect(fails(value)).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('SAMOKODER_CORS_ORIGINS') }));
    }
    const config = loadConfig({ SAMOKODER_CORS_ORIGINS: ' https://App.Example.com/ , http://localhost:5173,https://app.example.com:443' });
    expect(config.cors.origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).cors.origins).toEqual([]);
  });
});
