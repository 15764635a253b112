import type { Queryable } from '../port.js';

export interface TokenOwner {
  tokenId: string;
  userId: string;
}

export class AuthTokensRepo {
  constructor(private readonly db: Queryable) {}

  async create(input: { userId: string; tokenHash: string; expiresAt: Date }): Promise<string> {
    const res = await this.db.query<{ id: string }>(
      'INSERT INTO auth_tokens (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id',
      [input.userId, input.tokenHash, input.expiresAt],
    );
    return res.rows[0]!.id;
  }

  /** The owner of a live (unexpired, unrevoked) token, touching last_used_at. */
  async findLive(tokenHash: string, now: Date): Promise<TokenOwner | undefined> {
    const res = await this.db.query<{ id: string; user_id: string }>(
      `UPDATE auth_tokens SET last_used_at = $2
       WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2
       RETURNING id, user_id`,
      [tokenHash, now],
    );
    const row = res.rows[0];
    return row && { tokenId: row.id, userId: row.user_id };
  }

  async revoke(tokenId: string, userId: string, now: Date): Promise<void> {
    await this.db.query('UPDATE auth_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [
      tokenId,
      userId,
      now,
    ]);
  }
}
