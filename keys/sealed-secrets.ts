import type { Queryable } from '../db/port.js';
import type { SealedSecret, SecretBinding, Vault, WrappedDataKey } from './vault.js';

/**
 * One helper for every table of sealed secrets (BYOK keys, git credentials, project env vars):
 * each stores a secret only as the vault's envelope (these seven columns) next to an owner column
 * (a user's or a project's id), an item column naming the secret among its owner's, and metadata
 * its owner may see. Sealing, opening, listing, deleting and master-key rotation are written once
 * here; a table says only which columns those are. Table and column names in the SQL below come
 * from those SealedTable constants, never from input.
 */

const ENVELOPE = ['ciphertext', 'iv', 'auth_tag', 'wrapped_dek', 'dek_iv', 'dek_auth_tag', 'master_key_id'] as const;
/** The envelope columns, for a query that reads a sealed secret alongside other tables. */
export const ENVELOPE_COLUMNS = ENVELOPE.join(', ');

/** The envelope columns as a driver returns them: PGlite gives bytea as Uint8Array, pg as Buffer. */
export interface EnvelopeRow {
  ciphertext?: Uint8Array;
  iv?: Uint8Array;
  auth_tag?: Uint8Array;
  wrapped_dek?: Uint8Array;
  dek_iv?: Uint8Array;
  dek_auth_tag?: Uint8Array;
  master_key_id?: string;
}

const buf = (v: Uint8Array | undefined): Buffer => Buffer.from(v ?? new Uint8Array());

export const toSealed = (r: EnvelopeRow): SealedSecret => ({
  ciphertext: buf(r.ciphertext),
  iv: buf(r.iv),
  authTag: buf(r.auth_tag),
  wrappedDek: buf(r.wrapped_dek),
  dekIv: buf(r.dek_iv),
  dekAuthTag: buf(r.dek_auth_tag),
  masterKeyId: r.master_key_id ?? '',
});

const envelopeValues = (s: SealedSecret): unknown[] => [s.ciphertext, s.iv, s.authTag, s.wrappedDek, s.dekIv, s.dekAuthTag, s.masterKeyId];

/** Where a table keeps its secrets; `Row` is a row of its own (non-envelope) columns. */
export interface SealedTable<Row extends object, Info> {
  name: string;
  /** Scopes every owner's query (user_id, project_id). */
  owner: keyof Row & string;
  /** Names one secret among its owner's (id, name). */
  item: keyof Row & string;
  /** What the owner may see, the owner and item columns among them: never an envelope column. */
  infoColumns: string;
  toInfo: (row: Row) => Info;
  orderBy: string;
  /** The id a secret and its data key are sealed to (SecretBinding.keyId): copied to another row, it does not open. */
  bindingId: (owner: string, item: string) => string;
  /** Set: writing an owner's existing item replaces its secret and sets this column to now(); unset: every write is a new row. */
  replaceTouches?: keyof Row & string;
}

/** Whom a secret is sealed to besides its row: its owner user and its kind (SecretBinding without keyId). */
export type SecretOwner = Omit<SecretBinding, 'keyId'>;

/** A secret as read for opening: what its owner sees, its envelope, and the id it is sealed to. */
export type WithSealed<Info> = Info & SealedSecret & { bindingId: string };

/** A row for master-key rotation: which secret, and its envelope. */
export interface SealedRef {
  owner: string;
  item: string;
  sealed: SealedSecret;
}

/** A row read with its owner, item, info and envelope columns (by SealedSecrets.sealed or a query of its own). */
export function withSealed<Row extends object, Info>(t: SealedTable<Row, Info>, r: Row & EnvelopeRow): WithSealed<Info> {
  return { ...t.toInfo(r), ...toSealed(r), bindingId: t.bindingId(String(r[t.owner]), String(r[t.item])) };
}

/** The plaintext of a secret read with its envelope; `to` must be whom it was sealed to. */
export function openSealed(vault: Vault, to: SecretOwner, s: WithSealed<unknown>): string {
  return vault.open(s, { ...to, keyId: s.bindingId });
}

export class SealedSecrets<Row extends object, Info> {
  constructor(
    protected readonly db: Queryable,
    readonly table: SealedTable<Row, Info>,
  ) {}

  /** Seals `secret` to `to` and the row's owner and item (both among `columns`) and stores only its envelope. */
  async store(vault: Vault, to: SecretOwner, columns: Partial<Row>, secret: string): Promise<Info> {
    const t = this.table;
    const sealed = vault.seal(secret, { ...to, keyId: t.bindingId(String(columns[t.owner]), String(columns[t.item])) });
    const names = [...Object.keys(columns), ...ENVELOPE];
    const values = [...Object.values(columns), ...envelopeValues(sealed)];
    const replace = t.replaceTouches
      ? ` ON CONFLICT (${t.owner}, ${t.item}) DO UPDATE SET ${ENVELOPE.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, ${t.replaceTouches} = now()`
      : '';
    const res = await this.db.query<Row>(
      `INSERT INTO ${t.name} (${names.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})${replace} RETURNING ${t.infoColumns}`,
      values,
    );
    return t.toInfo(res.rows[0]!);
  }

  /** The owner's secrets as the owner may see them: names and metadata only. */
  async list(owner: string): Promise<Info[]> {
    const res = await this.db.query<Row>(`SELECT ${this.table.infoColumns} FROM ${this.table.name} WHERE ${this.table.owner} = $1 ORDER BY ${this.table.orderBy}`, [owner]);
    return res.rows.map(this.table.toInfo);
  }

  /** The owner's secrets (only `item` when given) with their envelopes, to open. */
  async sealed(owner: string, item?: string): Promise<WithSealed<Info>[]> {
    const t = this.table;
    const res = await this.db.query<Row & EnvelopeRow>(
      `SELECT ${t.infoColumns}, ${ENVELOPE_COLUMNS} FROM ${t.name} WHERE ${t.owner} = $1 ${item === undefined ? '' : `AND ${t.item} = $2`} ORDER BY ${t.orderBy}`,
      item === undefined ? [owner] : [owner, item],
    );
    return res.rows.map((r) => withSealed(t, r));
  }

  async delete(owner: string, item: string): Promise<boolean> {
    const res = await this.db.query(`DELETE FROM ${this.table.name} WHERE ${this.table.owner} = $1 AND ${this.table.item} = $2`, [owner, item]);
    return res.rowCount > 0;
  }

  // --- operator-level operations (master-key rotation and start-up checks), across owners ---

  /** Master key ids that wrap at least one stored secret, with row counts. */
  async countByMasterKey(): Promise<Map<string, number>> {
    const res = await this.db.query<{ master_key_id: string; n: number }>(`SELECT master_key_id, count(*)::int AS n FROM ${this.table.name} GROUP BY master_key_id`);
    return new Map(res.rows.map((r) => [r.master_key_id, Number(r.n)]));
  }

  /** Up to `limit` rows not yet under `masterKeyId`, locked until the transaction ends. */
  async lockBatchNotUnder(masterKeyId: string, limit: number): Promise<SealedRef[]> {
    const t = this.table;
    const res = await this.db.query<Record<string, string> & EnvelopeRow>(
      `SELECT ${t.owner}, ${t.item}, ${ENVELOPE_COLUMNS} FROM ${t.name} WHERE master_key_id <> $1 ORDER BY ${t.owner}, ${t.item} LIMIT $2 FOR UPDATE`,
      [masterKeyId, limit],
    );
    return res.rows.map((r) => ({ owner: String(r[t.owner]), item: String(r[t.item]), sealed: toSealed(r) }));
  }

  /** Re-wraps one locked row's data key under the vault's current master key (its ciphertext stays). */
  async rewrap(vault: Vault, ref: SealedRef): Promise<void> {
    const t = this.table;
    const w: WrappedDataKey = vault.rewrap(ref.sealed, t.bindingId(ref.owner, ref.item));
    await this.db.query(
      `UPDATE ${t.name} SET wrapped_dek = $4, dek_iv = $5, dek_auth_tag = $6, master_key_id = $7 WHERE ${t.owner} = $1 AND ${t.item} = $2 AND master_key_id = $3`,
      [ref.owner, ref.item, ref.sealed.masterKeyId, w.wrappedDek, w.dekIv, w.dekAuthTag, w.masterKeyId],
    );
  }
}
