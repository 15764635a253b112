import type { Queryable } from '../port.js';

export interface PlatformKeyRow {
  id: string;
  provider: string;
  masked: string;
  requestCount: number;
  errorCount: number;
  cooldownUntil: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  lastError: string | null;
  updatedAt: Date;
}

interface Row {
  id: string;
  provider: string;
  masked: string;
  request_count: string | number;
  error_count: string | number;
  cooldown_until: Date | string | null;
  disabled_at: Date | string | null;
  disabled_reason: string | null;
  last_error: string | null;
  updated_at: Date | string;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));
const toRow = (r: Row): PlatformKeyRow => ({
  id: r.id,
  provider: r.provider,
  masked: r.masked,
  requestCount: Number(r.request_count),
  errorCount: Number(r.error_count),
  cooldownUntil: date(r.cooldown_until),
  disabledAt: date(r.disabled_at),
  disabledReason: r.disabled_reason,
  lastError: r.last_error,
  updatedAt: new Date(r.updated_at),
});

export interface CallOutcomeUpdate {
  error: boolean;
  lastError?: string | undefined;
  cooldownUntil?: Date | undefined;
  disabledReason?: string | undefined;
}

/** Platform key state, shared by every node: keys are identified by fingerprint, never stored. */
export class PlatformKeysRepo {
  constructor(private readonly db: Queryable) {}

  /** Registers configured keys (first start) and returns the rows of `ids`. */
  async upsert(keys: readonly { id: string; provider: string; masked: string }[]): Promise<PlatformKeyRow[]> {
    for (const k of keys) {
      await this.db.query('INSERT INTO platform_keys (id, provider, masked) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [k.id, k.provider, k.masked]);
    }
    return this.get(keys.map((k) => k.id));
  }

  async get(ids: readonly string[]): Promise<PlatformKeyRow[]> {
    if (ids.length === 0) return [];
    const res = await this.db.query<Row>('SELECT * FROM platform_keys WHERE id = ANY($1::text[]) ORDER BY provider, id', [ids]);
    return res.rows.map(toRow);
  }

  /** Counts one finished call on a key, atomically, so concurrent nodes never lose an increment. */
  async recordCall(id: string, u: CallOutcomeUpdate): Promise<PlatformKeyRow | undefined> {
    const res = await this.db.query<Row>(
      `UPDATE platform_keys SET request_count = request_count + 1,
              error_count = error_count + $2,
              last_error = COALESCE($3, last_error),
              cooldown_until = COALESCE($4, cooldown_until),
              disabled_at = CASE WHEN $5::text IS NOT NULL THEN now() ELSE disabled_at END,
              disabled_reason = COALESCE($5, disabled_reason),
              updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, u.error ? 1 : 0, u.lastError ?? null, u.cooldownUntil ?? null, u.disabledReason ?? null],
    );
    return res.rows[0] && toRow(res.rows[0]);
  }
}
