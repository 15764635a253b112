import type { Queryable } from '../port.js';

/** Verifier rows: one per master key that has sealed something in this database. */
export class MasterKeysRepo {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<{ keyId: string; verifier: Buffer }[]> {
    const res = await this.db.query<{ key_id: string; verifier: Buffer | Uint8Array }>('SELECT key_id, verifier FROM master_keys ORDER BY created_at, key_id');
    return res.rows.map((r) => ({ keyId: r.key_id, verifier: Buffer.from(r.verifier) }));
  }

  /** Records a key's verifier once; concurrent starts of several nodes insert it at most once. */
  async ensure(keyId: string, verifier: Buffer): Promise<void> {
    await this.db.query('INSERT INTO master_keys (key_id, verifier) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [keyId, verifier]);
  }

  /** Forgets master keys other than `keep` that no stored secret uses any more (after rotation). */
  async deleteUnused(keep: string): Promise<string[]> {
    const res = await this.db.query<{ key_id: string }>(
      `DELETE FROM master_keys m WHERE m.key_id <> $1
         AND NOT EXISTS (SELECT 1 FROM api_keys a WHERE a.master_key_id = m.key_id)
         AND NOT EXISTS (SELECT 1 FROM git_credentials g WHERE g.master_key_id = m.key_id)
         AND NOT EXISTS (SELECT 1 FROM project_env e WHERE e.master_key_id = m.key_id) RETURNING key_id`,
      [keep],
    );
    return res.rows.map((r) => r.key_id);
  }
}
