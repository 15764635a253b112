import { migrate, migrationsApplied } from '../../db/migrate.js';
import { AuthTokensRepo } from '../../db/repos/auth-tokens.js';
import { PlansRepo } from '../../db/repos/plans.js';
import { isUniqueViolation, UsersRepo } from '../../db/repos/users.js';
import { monthOf, monthUsage } from '../../db/repos/usage-summary.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

describe.each(DATABASE_KINDS)('repositories on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test('the adapter reports its kind and migrations are recorded', async () => {
    expect(t.db.kind).toBe(kind);
    expect(await migrationsApplied(t.db)).toBe(true);
  });

  test('rowCount counts returned rows for SELECT and affected rows for writes, as pg does', async () => {
    expect((await t.db.query('SELECT * FROM plans')).rowCount).toBe(5);
    expect((await t.db.query("UPDATE plans SET name = name WHERE id IN ('free', 'pro')")).rowCount).toBe(2);
    expect((await t.db.query("UPDATE plans SET name = name WHERE id = 'pro' RETURNING id")).rowCount).toBe(1);
    expect((await t.db.query("DELETE FROM plans WHERE id = 'none'")).rowCount).toBe(0);
  });

  test('migrate is idempotent: a second run applies nothing', async () => {
    const again = await migrate(t.db);
    expect(again.applied).toEqual([]);
    expect(again.current).toBeGreaterThanOrEqual(1);
  });

  test('plans are seeded and editable', async () => {
    const plans = new PlansRepo(t.db);
    const list = await plans.list();
    expect(list.map((p) => p.id)).toEqual(['free', 'starter', 'pro', 'business', 'unlimited']);
    const free = list[0]!;
    expect(free.maxProjects).toBe(2);
    expect(free.byokAllowed).toBe(true);
    expect(free.platformKeysAllowed).toBe(false);
    const pro = list.find((p) => p.id === 'pro')!;
    expect(pro.maxProjects).toBeNull();
    expect(pro.platformKeysAllowed).toBe(true);
    const updated = await plans.update('starter', { monthlyTokenLimit: 1234, maxProjects: 7 });
    expect(updated).toMatchObject({ monthlyTokenLimit: 1234, maxProjects: 7, name: 'Starter' });
    expect(await plans.get('nope')).toBeUndefined();
  });

  test('users: create, find by email case-insensitively, unique email', async () => {
    const users = new UsersRepo(t.db);
    const u = await users.create({ email: 'Ada@Example.com', passwordHash: 'scrypt$x', planId: 'free' });
    expect(u).toMatchObject({ email: 'Ada@Example.com', role: 'user', planId: 'free' });
    const found = await users.findByEmailWithSecret('ada@example.COM');
    expect(found?.id).toBe(u.id);
    expect(found?.passwordHash).toBe('scrypt$x');
    const dup = await users.create({ email: 'ada@example.com', passwordHash: null, planId: 'free' }).catch((e: unknown) => e);
    expect(isUniqueViolation(dup)).toBe(true);
    expect(await users.findById('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  test('users: a Supabase identity maps to one local user, also under concurrency', async () => {
    const users = new UsersRepo(t.db);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => users.upsertBySupabaseSub({ sub: 'sb-123', email: 'sb@example.com', planId: 'free' })),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results[0]!.supabaseSub).toBe('sb-123');
    // A Supabase user does not take over a local account with the same email.
    const local = await users.create({ email: 'shared@example.com', passwordHash: 'h', planId: 'free' });
    const remote = await users.upsertBySupabaseSub({ sub: 'sb-456', email: 'shared@example.com', planId: 'free' });
    expect(remote.id).not.toBe(local.id);
    expect((await users.findByEmailWithSecret('shared@example.com'))?.id).toBe(local.id);
  });

  test('auth tokens: live, expired and revoked', async () => {
    const users = new UsersRepo(t.db);
    const tokens = new AuthTokensRepo(t.db);
    const u = await users.create({ email: `tok-${kind}@example.com`, passwordHash: null, planId: 'free' });
    const now = new Date('2026-01-01T00:00:00Z');
    const id = await tokens.create({ userId: u.id, tokenHash: 'h1', expiresAt: new Date(now.getTime() + 1000) });
    const live = (at: Date) => users.findBySessionToken('h1', at).then((s) => s && { tokenId: s.tokenId, userId: s.user.id });
    expect(await live(now)).toEqual({ tokenId: id, userId: u.id });
    expect(await live(new Date(now.getTime() + 1000))).toBeUndefined();
    // Revocation is scoped to the owner: another user's id revokes nothing.
    const other = await users.create({ email: `other-${kind}@example.com`, passwordHash: null, planId: 'free' });
    await tokens.revoke(id, other.id, now);
    expect(await live(now)).toBeDefined();
    await tokens.revoke(id, u.id, now);
    expect(await live(now)).toBeUndefined();
  });

  test('usage summary: zero for a new month, month key is UTC', async () => {
    const users = new UsersRepo(t.db);
    const u = await users.create({ email: `usage-${kind}@example.com`, passwordHash: null, planId: 'free' });
    expect(monthOf(new Date('2026-03-31T23:59:59Z'))).toBe('2026-03-01');
    const at = new Date('2026-03-15T12:00:00Z');
    expect(await monthUsage(t.db, u.id, at)).toEqual({ month: '2026-03-01', usedTokens: 0, reservedTokens: 0, sandboxSeconds: 0 });
    await t.db.query('INSERT INTO usage_months (user_id, month, used_tokens, reserved_tokens) VALUES ($1, $2, 500, 20)', [u.id, '2026-03-01']);
    expect(await monthUsage(t.db, u.id, at)).toEqual({ month: '2026-03-01', usedTokens: 500, reservedTokens: 20, sandboxSeconds: 0 });
  });

  test('transactions roll back every write when the callback throws', async () => {
    const before = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    await expect(
      t.db.transaction(async (tx) => {
        await new UsersRepo(tx).create({ email: `rollback-${kind}@example.com`, passwordHash: null, planId: 'free' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const after = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  test('LISTEN/NOTIFY delivers payloads and unlisten stops them', async () => {
    const got: string[] = [];
    const unlisten = await t.db.listen('samokoder_test', (p) => got.push(p));
    await t.db.notify('samokoder_test', 'one');
    await waitFor(() => got.length === 1);
    await unlisten();
    await t.db.notify('samokoder_test', 'two');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['one']);
    await expect(t.db.listen('bad channel; drop table users', () => undefined)).rejects.toThrow(/invalid LISTEN channel/);
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
