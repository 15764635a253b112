import { createServer, type Server } from 'node:http';
import type { webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { DATABASE_KINDS } from '../helpers/databases.js';

const SUPABASE_SECRET = 'super-secret-jwt-token-with-at-least-32-characters';

async function supabaseToken(secret: string, claims: Record<string, unknown> = {}, expiresIn = '1h') {
  return new SignJWT({ email: 'sb-user@example.com', role: 'authenticated', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject((claims.sub as string | undefined) ?? 'b6f1c0de-0000-4000-8000-000000000001')
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

describe.each(DATABASE_KINDS)('accounts over HTTP on %s', (kind) => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer(kind, { SUPABASE_JWT_SECRET: SUPABASE_SECRET, SAMOKODER_ADMIN_EMAILS: 'boss@example.com' });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  test('register → login → GET /api/me → logout', async () => {
    const reg = await api('POST', '/api/auth/register', { body: { email: ' Ada@Example.com ', password: 'correct horse battery' } });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ email: 'ada@example.com', role: 'user', planId: 'free' });
    expect(reg.body.token).toMatch(/^sk_sess_/);
    expect(JSON.stringify(reg.body)).not.toContain('scrypt');

    const login = await api('POST', '/api/auth/login', { body: { email: 'ada@example.com', password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    expect(login.body.token).not.toBe(reg.body.token);

    const me = await api('GET', '/api/me', { token: login.body.token });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(reg.body.user.id);
    expect(me.body.plan).toMatchObject({ id: 'free', maxProjects: 2 });
    expect(me.body.usage).toMatchObject({ usedTokens: 0, reservedTokens: 0, projects: 0 });

    expect((await api('POST', '/api/auth/logout', { token: login.body.token })).status).toBe(204);
    const after = await api('GET', '/api/me', { token: login.body.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('E_AUTH');
    // The other session is untouched.
    expect((await api('GET', '/api/me', { token: reg.body.token })).status).toBe(200);
  });

  test('wrong password and unknown email get the same 401', async () => {
    const { email } = await registerUser(api);
    const wrong = await api('POST', '/api/auth/login', { body: { email, password: 'not the password' } });
    const unknown = await api('POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  test('a taken email is 409 E_CONFLICT and creates nothing', async () => {
    const { email } = await registerUser(api);
    const before = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    const dup = await api('POST', '/api/auth/register', { body: { email: email.toUpperCase(), password: 'another password' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('E_CONFLICT');
    const after = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  test('registering an email listed in SAMOKODER_ADMIN_EMAILS does not make an admin (nothing verified it)', async () => {
    const res = await api('POST', '/api/auth/register', { body: { email: 'boss@example.com', password: 'correct horse battery' } });
    expect(res.body.user.role).toBe('user');
    expect((await api('GET', '/api/me', { token: res.body.token })).body.user.role).toBe('user');
  });

  test('the password is stored as an scrypt hash, never in clear', async () => {
    const { userId } = await registerUser(api);
    const row = await server.ctx.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]);
    expect(row.rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.rows[0]!.password_hash).not.toContain('correct horse battery');
  });

  test('a Supabase token signed with the project secret is accepted and mapped to one local user', async () => {
    const token = await supabaseToken(SUPABASE_SECRET);
    const first = await api('GET', '/api/me', { token });
    expect(first.status).toBe(200);
    expect(first.body.user.email).toBe('sb-user@example.com');
    const second = await api('GET', '/api/me', { token: await supabaseToken(SUPABASE_SECRET) });
    expect(second.body.user.id).toBe(first.body.user.id);
  });

  test('a Supabase-shaped token signed with another secret, expired, or for another audience is 401 E_AUTH', async () => {
    const forged = await supabaseToken('another-secret-another-secret-another-secret');
    const expired = await supabaseToken(SUPABASE_SECRET, {}, '-1m');
    const wrongAud = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setAudience('anon')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SUPABASE_SECRET));
    for (const token of [forged, expired, wrongAud, 'garbage', 'a.b.c', 'sk_sess_' + 'x'.repeat(43)]) {
      const res = await api('GET', '/api/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('E_AUTH');
      expect(res.body.error.message).toMatch(/log in/i);
    }
  });

  test('missing or malformed Authorization headers are 401 with a message saying what to send', async () => {
    const none = await api('GET', '/api/me');
    expect(none.status).toBe(401);
    expect(none.body.error.message).toMatch(/Authorization: Bearer/);
    const basic = await api('GET', '/api/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(basic.body.error.code).toBe('E_AUTH');
  });

  test('a token past its expiry is refused', async () => {
    const { token, userId } = await registerUser(api);
    await server.ctx.db.query("UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", [userId]);
    expect((await api('GET', '/api/me', { token })).status).toBe(401);
  });
});

describe('Supabase tokens through a JWKS (RS256)', () => {
  let jwks: Server;
  let server: TestServer;
  let privateKey: webcrypto.CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey as webcrypto.CryptoKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const port = (jwks.address() as { port: number }).port;
    server = await startTestServer('pglite', { SUPABASE_JWKS_URL: `http://127.0.0.1:${port}/auth/v1/.well-known/jwks.json` });
  });
  afterAll(async () => {
    await server.close();
    await new Promise((r) => jwks.close(r));
  });

  test('a token signed by the JWKS key is accepted; one signed by another key is not', async () => {
    const api = apiClient(server.url);
    const sign = (key: webcrypto.CryptoKey) =>
      new SignJWT({ email: 'rs@example.com' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('rs-user')
        .setAudience('authenticated')
        .setExpirationTime('1h')
        .sign(key);
    const good = await api('GET', '/api/me', { token: await sign(privateKey) });
    expect(good.status).toBe(200);
    expect(good.body.user.email).toBe('rs@example.com');
    const other = await generateKeyPair('RS256');
    const bad = await api('GET', '/api/me', { token: await sign(other.privateKey as webcrypto.CryptoKey) });
    expect(bad.status).toBe(401);
  });
});
