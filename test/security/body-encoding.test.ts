import { gzipSync } from 'node:zlib';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';

describe('compressed request bodies', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer('pglite');
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test.each(['gzip', 'br', 'deflate'])('a body that does not decode as its Content-Encoding (%s) → 400 E_BAD_ENCODING, no error-level log', async (encoding) => {
    const linesBefore = server.logs.length;
    const res = await api('POST', '/api/auth/login', {
      rawBody: '{"email":"a@example.com","password":"not compressed"}',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('E_BAD_ENCODING');
    expect(res.body.error.message).toMatch(/Content-Encoding/);
    const errorLines = server.logs.slice(linesBefore).map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
    expect(errorLines).toEqual([]);
  });

  test('an unsupported encoding → 415 naming it', async () => {
    const res = await api('POST', '/api/auth/login', { rawBody: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'zstd-nope' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('E_UNSUPPORTED_MEDIA_TYPE');
    expect(res.body.error.message).toContain('zstd-nope');
  });

  test('a well-formed gzip body is read', async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ email: 'nobody@example.com', password: 'some long password' })),
    });
    // Parsed, validated and checked against the accounts: the answer is about the credentials.
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_AUTH');
  });
});
