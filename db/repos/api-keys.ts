import type { Queryable } from '../port.js';

/** A stored BYOK key as shown to its owner: never any secret material. */
export interface ApiKeyInfo {
  id: string;
  userId: string;
  provider: string;
  label: string | null;
  baseUrl: string | null;
  masked: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** The envelope columns (see keys/vault.ts). */
export interface ApiKeyEnvelope {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  wrappedDek: Buffer;
  dekIv: Buffer;
  dekAuthTag: Buffer;
  masterKeyId: string;
}

export type ApiKeyWithEnvelope = ApiKeyInfo & ApiKeyEnvelope;

/** What a model call is allowed: the plan flags and the BYOK key (read by UsageLedgerRepo.reserve). */
export interface CallAccess {
  plan: { name: string; byokAllowed: boolean; platformKeysAllowed: boolean };
  key: ApiKeyWithEnvelope | undefined;
}

interface Row {
  id: string;
  user_id: string;
  provider: string;
  label: string | null;
  base_url: string | null;
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

const INFO_COLUMNS = 'id, user_id, provider, label, base_url, masked, created_at, last_used_at';
const ENVELOPE_COLUMNS = 'ciphertext, iv, auth_tag, wrapped_dek, dek_iv, dek_auth_tag, master_key_id';

const toInfo = (r: Row): ApiKeyInfo => ({
  id: r.id,
  userId: r.user_id,
  provider: r.provider,
  label: r.label,
  baseUrl: r.base_url,
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

/** The key columns a call needs (UsageLedgerRepo.reserve reads them with the plan flags). */
export const CALL_KEY_COLUMNS = `${INFO_COLUMNS}, ${ENVELOPE_COLUMNS}`;

/** A row of the plan flags and, when `key_found`, the CALL_KEY_COLUMNS of the call's key. */
export type CallAccessRow = Row & { plan_name: string; byok_allowed: boolean; platform_keys_allowed: boolean; key_found: boolean };

export const toCallAccess = (r: CallAccessRow): CallAccess => ({
  plan: { name: r.plan_name, byokAllowed: r.byok_allowed, platformKeysAllowed: r.platform_keys_allowed },
  key: r.key_found ? { ...toInfo(r), ...toEnvelope(r) } : undefined,
});

/** Every query on a user's keys is scoped by user id. */
export class ApiKeysRepo {
  constructor(private readonly db: Queryable) {}

  async create(input: { id: string; userId: string; provider: string; label: string | null; baseUrl: string | null; masked: string } & ApiKeyEnvelope): Promise<ApiKeyInfo> {
    const res = await this.db.query<Row>(
      `INSERT INTO api_keys (id, user_id, provider, label, base_url, masked, ciphertext, iv, auth_tag, wrapped_dek, dek_iv, dek_auth_tag, master_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${INFO_COLUMNS}`,
      [input.id, input.userId, input.provider, input.label, input.baseUrl, input.masked, input.ciphertext, input.iv, input.authTag, input.wrappedDek, input.dekIv, input.dekAuthTag, input.masterKeyId],
    );
    return toInfo(res.rows[0]!);
  }

  async list(userId: string): Promise<ApiKeyInfo[]> {
    const res = await this.db.query<Row>(`SELECT ${INFO_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId]);
    return res.rows.map(toInfo);
  }

  /** The key with its envelope, only if it belongs to `userId`. */
  async getWithEnvelope(userId: string, id: string): Promise<ApiKeyWithEnvelope | undefined> {
    const res = await this.db.query<Row>(`SELECT ${INFO_COLUMNS}, ${ENVELOPE_COLUMNS} FROM api_keys WHERE user_id = $1 AND id = $2`, [userId, id]);
    const r = res.rows[0];
    return r && { ...toInfo(r), ...toEnvelope(r) };
  }

  /** The user's newest key for a provider (when a call names no key id). */
  async newestIdFor(userId: string, provider: string): Promise<string | undefined> {
    const res = await this.db.query<{ id: string }>(
      'SELECT id FROM api_keys WHERE user_id = $1 AND provider = $2 ORDER BY created_at DESC, id LIMIT 1',
      [userId, provider],
    );
    return res.rows[0]?.id;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM api_keys WHERE user_id = $1 AND id = $2', [userId, id]);
    return res.rowCount > 0;
  }

  // --- operator-level operations (master-key rotation and start-up checks), not per user ---

  /** Master key ids that wrap at least one stored key, with row counts. */
  async countByMasterKey(): Promise<Map<string, number>> {
    const res = await this.db.query<{ master_key_id: string; n: number }>('SELECT master_key_id, count(*)::int AS n FROM api_keys GROUP BY master_key_id');
    return new Map(res.rows.map((r) => [r.master_key_id, Number(r.n)]));
  }

  /** Up to `limit` rows not yet under `masterKeyId`, locked until the transaction ends. */
  async lockBatchNotUnder(masterKeyId: string, limit: number): Promise<(ApiKeyEnvelope & { id: string })[]> {
    const res = await this.db.query<Row>(
      `SELECT ${INFO_COLUMNS}, ${ENVELOPE_COLUMNS} FROM api_keys WHERE master_key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE`,
      [masterKeyId, limit],
    );
    return res.rows.map((r) => ({ id: r.id, ...toEnvelope(r) }));
  }

  async updateWrappedDek(id: string, fromMasterKeyId: string, w: { wrappedDek: Buffer; dekIv: Buffer; dekAuthTag: Buffer; masterKeyId: string }): Promise<void> {
    await this.db.query(
      'UPDATE api_keys SET wrapped_dek = $3, dek_iv = $4, dek_auth_tag = $5, master_key_id = $6 WHERE id = $1 AND master_key_id = $2',
      [id, fromMasterKeyId, w.wrappedDek, w.dekIv, w.dekAuthTag, w.masterKeyId],
    );
  }
}
