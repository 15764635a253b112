import type { Queryable } from '../db/port.js';
import type { SealedSecret, WrappedDataKey } from '../keys/vault.js';

/** A project variable as its owner sees it: the name only, never the value. */
export interface EnvVarInfo {
  name: string;
  updatedAt: Date;
}

interface Row {
  name: string;
  updated_at: Date;
  project_id?: string;
  ciphertext?: Uint8Array;
  iv?: Uint8Array;
  auth_tag?: Uint8Array;
  wrapped_dek?: Uint8Array;
  dek_iv?: Uint8Array;
  dek_auth_tag?: Uint8Array;
  master_key_id?: string;
}

const ENVELOPE = 'ciphertext, iv, auth_tag, wrapped_dek, dek_iv, dek_auth_tag, master_key_id';
// PGlite returns bytea as Uint8Array, pg as Buffer.
const buf = (b: Uint8Array | undefined): Buffer => Buffer.from(b!.buffer, b!.byteOffset, b!.byteLength);
const toSealed = (r: Row): SealedSecret => ({
  ciphertext: buf(r.ciphertext),
  iv: buf(r.iv),
  authTag: buf(r.auth_tag),
  wrappedDek: buf(r.wrapped_dek),
  dekIv: buf(r.dek_iv),
  dekAuthTag: buf(r.dek_auth_tag),
  masterKeyId: r.master_key_id!,
});

/** project_env: each value sealed (previews/project-env.ts seals and opens; this only stores). */
export class ProjectEnvRepo {
  constructor(private readonly db: Queryable) {}

  async names(projectId: string): Promise<EnvVarInfo[]> {
    const r = await this.db.query<Row>('SELECT name, updated_at FROM project_env WHERE project_id = $1 ORDER BY name', [projectId]);
    return r.rows.map((row) => ({ name: row.name, updatedAt: new Date(row.updated_at) }));
  }

  async upsert(projectId: string, name: string, s: SealedSecret): Promise<void> {
    await this.db.query(
      `INSERT INTO project_env (project_id, name, ${ENVELOPE}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (project_id, name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, auth_tag = EXCLUDED.auth_tag,
         wrapped_dek = EXCLUDED.wrapped_dek, dek_iv = EXCLUDED.dek_iv, dek_auth_tag = EXCLUDED.dek_auth_tag,
         master_key_id = EXCLUDED.master_key_id, updated_at = now()`,
      [projectId, name, s.ciphertext, s.iv, s.authTag, s.wrappedDek, s.dekIv, s.dekAuthTag, s.masterKeyId],
    );
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM project_env WHERE project_id = $1 AND name = $2', [projectId, name]);
    return r.rowCount > 0;
  }

  async sealed(projectId: string): Promise<{ name: string; sealed: SealedSecret }[]> {
    const r = await this.db.query<Row>(`SELECT name, updated_at, ${ENVELOPE} FROM project_env WHERE project_id = $1 ORDER BY name`, [projectId]);
    return r.rows.map((row) => ({ name: row.name, sealed: toSealed(row) }));
  }

  /** For master key rotation (keys/rotation.ts): rows under another master key, locked. */
  async lockBatchNotUnder(masterKeyId: string, limit: number): Promise<{ projectId: string; name: string; sealed: SealedSecret }[]> {
    const r = await this.db.query<Row>(
      `SELECT project_id, name, updated_at, ${ENVELOPE} FROM project_env WHERE master_key_id <> $1 ORDER BY project_id, name LIMIT $2 FOR UPDATE`,
      [masterKeyId, limit],
    );
    return r.rows.map((row) => ({ projectId: row.project_id!, name: row.name, sealed: toSealed(row) }));
  }

  async updateWrappedDek(projectId: string, name: string, fromMasterKeyId: string, w: WrappedDataKey): Promise<void> {
    await this.db.query(
      'UPDATE project_env SET wrapped_dek = $4, dek_iv = $5, dek_auth_tag = $6, master_key_id = $7 WHERE project_id = $1 AND name = $2 AND master_key_id = $3',
      [projectId, name, fromMasterKeyId, w.wrappedDek, w.dekIv, w.dekAuthTag, w.masterKeyId],
    );
  }
}
