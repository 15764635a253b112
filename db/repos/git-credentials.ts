import type { Queryable } from '../port.js';
import type { ApiKeyEnvelope } from './api-keys.js';

export type GitCredentialKind = 'token' | 'ssh-key';

/** A stored git credential as shown to its owner: never any secret material. */
export interface GitCredentialInfo {
  id: string;
  userId: string;
  kind: GitCredentialKind;
  label: string | null;
  /** The user name sent with a token over HTTPS (GitHub ignores it; others want the account name). */
  username: string | null;
  masked: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type GitCredentialWithEnvelope = GitCredentialInfo & ApiKeyEnvelope;

interface Row {
  id: string;
  user_id: string;
  kind: GitCredentialKind;
  label: string | null;
  username: string | null;
  masked: string;
  created_at: Date;
  last_used_at: Date | null;
  ciphertext?: Buffer | Uint8Array;
  iv?: Buffer | Uint8Array;
  auth_tag?: Buffer | Uint8Array;
  wrapped_dek?: Buffer | Uint8Array;
  dek_iv?: Buffer | Uint8Array;
  dek_auth_tag?: Buffer | Uint8Array;
  master_key_id?: string;
}

const INFO_COLUMNS = 'id, user_id, kind, label, username, masked, created_at, last_used_at';
const ENVELOPE_COLUMNS = 'ciphertext, iv, auth_tag, wrapped_dek, dek_iv, dek_auth_tag, master_key_id';

const toInfo = (r: Row): GitCredentialInfo => ({
  id: r.id,
  userId: r.user_id,
  kind: r.kind,
  label: r.label,
  username: r.username,
  masked: r.masked,
  createdAt: new Date(r.created_at),
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
});

// PGlite returns bytea as Uint8Array, pg as Buffer.
const buf = (v: Buffer | Uint8Array | undefined): Buffer => Buffer.from(v ?? new Uint8Array());

const toEnvelope = (r: Row): ApiKeyEnvelope => ({
  ciphertext: buf(r.ciphertext),
  iv: buf(r.iv),
  authTag: buf(r.auth_tag),
  wrappedDek: buf(r.wrapped_dek),
  dekIv: buf(r.dek_iv),
  dekAuthTag: buf(r.dek_auth_tag),
  masterKeyId: r.master_key_id ?? '',
});

/** Every query on a user's git credentials is scoped by user id. */
export class GitCredentialsRepo {
  constructor(private readonly db: Queryable) {}

  async create(input: { id: string; userId: string; kind: GitCredentialKind; label: string | null; username: string | null; masked: string } & ApiKeyEnvelope): Promise<GitCredentialInfo> {
    const res = await this.db.query<Row>(
      `INSERT INTO git_credentials (id, user_id, kind, label, username, masked, ciphertext, iv, auth_tag, wrapped_dek, dek_iv, dek_auth_tag, master_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${INFO_COLUMNS}`,
      [input.id, input.userId, input.kind, input.label, input.username, input.masked, input.ciphertext, input.iv, input.authTag, input.wrappedDek, input.dekIv, input.dekAuthTag, input.masterKeyId],
    );
    return toInfo(res.rows[0]!);
  }

  async list(userId: string): Promise<GitCredentialInfo[]> {
    const res = await this.db.query<Row>(`SELECT ${INFO_COLUMNS} FROM git_credentials WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId]);
    return res.rows.map(toInfo);
  }

  /** The credential with its envelope, only if it belongs to `userId`; its last use is recorded. */
  async useWithEnvelope(userId: string, id: string): Promise<GitCredentialWithEnvelope | undefined> {
    const res = await this.db.query<Row>(
      `UPDATE git_credentials SET last_used_at = now() WHERE user_id = $1 AND id = $2 RETURNING ${INFO_COLUMNS}, ${ENVELOPE_COLUMNS}`,
      [userId, id],
    );
    const r = res.rows[0];
    return r && { ...toInfo(r), ...toEnvelope(r) };
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM git_credentials WHERE user_id = $1 AND id = $2', [userId, id]);
    return res.rowCount > 0;
  }

  // --- operator-level operations (master-key rotation and start-up checks), not per user ---

  async countByMasterKey(): Promise<Map<string, number>> {
    const res = await this.db.query<{ master_key_id: string; n: number }>('SELECT master_key_id, count(*)::int AS n FROM git_credentials GROUP BY master_key_id');
    return new Map(res.rows.map((r) => [r.master_key_id, Number(r.n)]));
  }

  async lockBatchNotUnder(masterKeyId: string, limit: number): Promise<(ApiKeyEnvelope & { id: string })[]> {
    const res = await this.db.query<Row>(
      `SELECT ${INFO_COLUMNS}, ${ENVELOPE_COLUMNS} FROM git_credentials WHERE master_key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE`,
      [masterKeyId, limit],
    );
    return res.rows.map((r) => ({ id: r.id, ...toEnvelope(r) }));
  }

  async updateWrappedDek(id: string, fromMasterKeyId: string, w: { wrappedDek: Buffer; dekIv: Buffer; dekAuthTag: Buffer; masterKeyId: string }): Promise<void> {
    await this.db.query(
      'UPDATE git_credentials SET wrapped_dek = $3, dek_iv = $4, dek_auth_tag = $5, master_key_id = $6 WHERE id = $1 AND master_key_id = $2',
      [id, fromMasterKeyId, w.wrappedDek, w.dekIv, w.dekAuthTag, w.masterKeyId],
    );
  }
}
