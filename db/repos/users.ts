import type { Queryable } from '../port.js';

export type Role = 'user' | 'admin';

export interface User {
  id: string;
  email: string;
  role: Role;
  planId: string;
  supabaseSub: string | null;
  createdAt: Date;
}

export interface UserWithSecret extends User {
  passwordHash: string | null;
}

/** A live session token and the user it authenticates. */
export interface TokenSession {
  user: User;
  tokenId: string;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  plan_id: string;
  supabase_sub: string | null;
  password_hash: string | null;
  created_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  role: r.role,
  planId: r.plan_id,
  supabaseSub: r.supabase_sub,
  createdAt: new Date(r.created_at),
});

/** PostgreSQL's unique_violation: callers turn it into E_CONFLICT. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

export class UsersRepo {
  constructor(private readonly db: Queryable) {}

  /** Throws a unique violation (see isUniqueViolation) when the email is taken. */
  async create(input: { email: string; passwordHash: string | null; planId: string; role?: Role; supabaseSub?: string }): Promise<User> {
    const res = await this.db.query<UserRow>(
      `INSERT INTO users (email, password_hash, plan_id, role, supabase_sub)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [input.email, input.passwordHash, input.planId, input.role ?? 'user', input.supabaseSub ?? null],
    );
    return toUser(res.rows[0]!);
  }

  async findById(id: string): Promise<User | undefined> {
    const res = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return res.rows[0] && toUser(res.rows[0]);
  }

  /**
   * The user owning a live (unexpired, unrevoked) session token, with the token's id, expiry and
   * last use, in one query: every authenticated request that misses the session cache makes it.
   */
  async findBySessionToken(tokenHash: string, now: Date): Promise<TokenSession | undefined> {
    const res = await this.db.query<UserRow & { token_id: string; token_expires_at: Date; token_last_used_at: Date | null }>(
      `SELECT u.*, t.id AS token_id, t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at
       FROM auth_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2`,
      [tokenHash, now],
    );
    const row = res.rows[0];
    return (
      row && {
        user: toUser(row),
        tokenId: row.token_id,
        expiresAt: new Date(row.token_expires_at),
        lastUsedAt: row.token_last_used_at === null ? null : new Date(row.token_last_used_at),
      }
    );
  }

  async findByEmailWithSecret(email: string): Promise<UserWithSecret | undefined> {
    const res = await this.db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1) AND supabase_sub IS NULL', [email]);
    const row = res.rows[0];
    return row && { ...toUser(row), passwordHash: row.password_hash };
  }

  /**
   * Maps a Supabase identity to a local user on first sight. ON CONFLICT makes two concurrent
   * first requests with the same token converge on one row.
   */
  async upsertBySupabaseSub(input: { sub: string; email: string; planId: string }): Promise<User> {
    const res = await this.db.query<UserRow>(
      `INSERT INTO users (email, password_hash, plan_id, supabase_sub)
       VALUES ($1, NULL, $2, $3)
       ON CONFLICT (supabase_sub) DO UPDATE SET updated_at = users.updated_at
       RETURNING *`,
      [input.email, input.planId, input.sub],
    );
    return toUser(res.rows[0]!);
  }

  async setRole(id: string, role: Role): Promise<void> {
    await this.db.query('UPDATE users SET role = $2, updated_at = now() WHERE id = $1', [id, role]);
  }

  async setPlan(id: string, planId: string): Promise<void> {
    await this.db.query('UPDATE users SET plan_id = $2, updated_at = now() WHERE id = $1', [id, planId]);
  }
}
