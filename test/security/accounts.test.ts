import { randomUUID } from 'node:crypto';
import { hashPassword } from '../../server/auth/passwords.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { signSupabaseToken } from '../helpers/supabase.js';

const SECRET = 'accounts-test-supabase-secret-with-32-chars-or-more';
const ADMIN_EMAIL = 'chief@example.com';
const ADMIN_ID = randomUUID();

describe('accounts a hostile user probes', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer('pglite', {
      SUPABASE_JWT_SECRET: SECRET,
      SAMOKODER_ADMIN_EMAILS: ADMIN_EMAIL,
      SAMOKODER_ADMIN_USER_IDS: ADMIN_ID,
    });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server.close();
  });

  const adminRoute = (token: string) => api('GET', '/api/admin/platform-keys', { token });

  describe('passwords', () => {
    test.each([
      ['nine char', /at least 10 characters/],
      ['1234567890', /most common passwords/],
      ['password1234', /most common passwords/],
      ['QwertyUiop', /most common passwords/],
    ])('register refuses %p with 400 E_VALIDATION saying what to fix, and creates nothing', async (password, why) => {
      const email = `weak-${randomUUID()}@example.com`;
      const res = await api('POST', '/api/auth/register', { body: { email, password } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('E_VALIDATION');
      expect(res.body.error.message).toMatch(/^.*password: /);
      expect(res.body.error.message).toMatch(why);
      const rows = await server.ctx.db.query('SELECT 1 FROM users WHERE email = $1', [email]);
      expect(rows.rows).toHaveLength(0);
    });

    test('an uncommon password of 10+ characters is accepted', async () => {
      const res = await api('POST', '/api/auth/register', { body: { email: `ok-${randomUUID()}@example.com`, password: 'lantern quietly harbors' } });
      expect(res.status).toBe(201);
    });

    test('an account made before the policy still signs in with its 8-character password', async () => {
      const email = `old-${randomUUID()}@example.com`;
      await server.ctx.db.query("INSERT INTO users (email, password_hash, plan_id) VALUES ($1, $2, 'free')", [email, await hashPassword('oldpass1')]);
      const res = await api('POST', '/api/auth/login', { body: { email, password: 'oldpass1' } });
      expect(res.status).toBe(200);
    });
  });

  describe('administrators', () => {
    test('a local registration of an admin email is a plain user, refused on admin routes', async () => {
      const user = await registerUser(api, ADMIN_EMAIL);
      expect((await api('GET', '/api/me', { token: user.token })).body.user.role).toBe('user');
      const res = await adminRoute(user.token);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('E_FORBIDDEN');
    });

    test('a Supabase token with email_verified: true for an admin email is an admin; unverified or only in user_metadata is not', async () => {
      const verified = await signSupabaseToken(SECRET, { sub: randomUUID(), email: 'Chief@example.com', email_verified: true });
      expect((await api('GET', '/api/me', { token: verified })).body.user.role).toBe('admin');
      expect((await adminRoute(verified)).status).toBe(200);

      const unverified = await signSupabaseToken(SECRET, { sub: randomUUID(), email: ADMIN_EMAIL, email_verified: false });
      const userMetadataOnly = await signSupabaseToken(SECRET, { sub: randomUUID(), email: ADMIN_EMAIL, user_metadata: { email_verified: true } });
      for (const token of [unverified, userMetadataOnly]) {
        expect((await api('GET', '/api/me', { token })).body.user.role).toBe('user');
        expect((await adminRoute(token)).status).toBe(403);
      }
    });

    test('an account listed in SAMOKODER_ADMIN_USER_IDS is an admin, whatever its email', async () => {
      await server.ctx.db.query("INSERT INTO users (id, email, password_hash, plan_id) VALUES ($1, $2, $3, 'free')", [
        ADMIN_ID,
        `listed-${randomUUID()}@example.com`,
        await hashPassword('listed admin password'),
      ]);
      const email = (await server.ctx.db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [ADMIN_ID])).rows[0]!.email;
      const login = await api('POST', '/api/auth/login', { body: { email, password: 'listed admin password' } });
      expect(login.status).toBe(200);
      expect((await adminRoute(login.body.token)).status).toBe(200);
    });

    test('a users.role of admin written earlier is no grant', async () => {
      const user = await registerUser(api);
      await server.ctx.db.query("UPDATE users SET role = 'admin' WHERE id = $1", [user.userId]);
      expect((await adminRoute(user.token)).status).toBe(403);
    });
  });

  describe('Supabase token lifetime', () => {
    test.each([
      ['no exp', { expiresInSeconds: null }],
      ['exp ten years out', { expiresInSeconds: 10 * 365 * 24 * 3600 }],
      ['exp 25 h out', { expiresInSeconds: 25 * 3600 }],
      ['iat two days ago, exp in an hour', { expiresInSeconds: 3600, issuedAtOffsetSeconds: -2 * 24 * 3600 }],
    ])('a token with %s is 401 E_AUTH', async (_name, options) => {
      const token = await signSupabaseToken(SECRET, { sub: randomUUID(), email: 'long@example.com' }, options);
      const res = await api('GET', '/api/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('E_AUTH');
    });

    test('a token valid for an hour is accepted', async () => {
      const token = await signSupabaseToken(SECRET, { sub: randomUUID(), email: 'hour@example.com' });
      expect((await api('GET', '/api/me', { token })).status).toBe(200);
    });

    test('logout with a Supabase token does not claim to revoke it', async () => {
      const token = await signSupabaseToken(SECRET, { sub: randomUUID(), email: 'out@example.com' });
      const res = await api('POST', '/api/auth/logout', { token });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ revoked: false, message: expect.stringMatching(/supabase\.auth\.signOut/) });
      expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
      // It is still valid, as the answer says.
      expect((await api('GET', '/api/me', { token })).status).toBe(200);
    });
  });

  test('registering a taken email is 409 E_CONFLICT (the documented trade-off: no email is sent to hide it)', async () => {
    const { email } = await registerUser(api);
    const res = await api('POST', '/api/auth/register', { body: { email, password: 'another long password' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('E_CONFLICT');
  });
});
