import type { Queryable } from '../port.js';

/** How stale last_used_at may get (see touch). */
const LAST_USED_RESOLUTION_MS = 60_000;

export class AuthTokensRepo {
  constructor(private readonly db: Queryable) {}

  async create(input: { userId: string; tokenHash: string; expiresAt: Date }): Promise<string> {
    const res = await this.db.query<{ id: string }>(
      'INSERT INTO auth_tokens (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id',
      [input.userId, input.tokenHash, input.expiresAt],
    );
    return res.rows[0]!.id;
  }

  /**
   * Records a use of the token at most once a minute: last_used_at is informational, and writing
   * it on every request made concurrent requests with one token queue on that row's lock (and
   * wrote WAL for every read-only request). Returns whether it wrote.
   */
  async touch(tokenId: string, lastUsedAt: Date | null, now: Date): Promise<boolean> {
    const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    if (lastUsedAt !== null && lastUsedAt >= staleBefore) return false;
    await this.db.query('UPDATE auth_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)', [tokenId, now, staleBefore]);
    return true;
  }

  /** Returns whether it revoked the token (false when it was already revoked, or not the user's). */
  async revoke(tokenId: string, userId: string, now: Date): Promise<boolean> {
    const res = await this.db.query('UPDATE auth_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [
      tokenId,
      userId,
      now,
    ]);
    return res.rowCount > 0;
  }
}
