import { SealedSecrets, ENVELOPE_COLUMNS, withSealed, type EnvelopeRow, type SealedTable, type WithSealed } from '../../keys/sealed-secrets.js';
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

export type ApiKeyWithEnvelope = WithSealed<ApiKeyInfo>;

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
}

const INFO_COLUMNS = 'id, user_id, provider, label, base_url, masked, created_at, last_used_at';

/** api_keys: a BYOK key is sealed to its user, its provider and its row id. */
const API_KEYS: SealedTable<Row, ApiKeyInfo> = {
  name: 'api_keys',
  owner: 'user_id',
  item: 'id',
  infoColumns: INFO_COLUMNS,
  toInfo: (r) => ({
    id: r.id,
    userId: r.user_id,
    provider: r.provider,
    label: r.label,
    baseUrl: r.base_url,
    masked: r.masked,
    createdAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
  }),
  orderBy: 'created_at DESC, id',
  bindingId: (_userId, id) => id,
};

/** The key columns a call needs (UsageLedgerRepo.reserve reads them with the plan flags). */
export const CALL_KEY_COLUMNS = `${INFO_COLUMNS}, ${ENVELOPE_COLUMNS}`;

/** A row of the plan flags and, when `key_found`, the CALL_KEY_COLUMNS of the call's key. */
export type CallAccessRow = Row & EnvelopeRow & { plan_name: string; byok_allowed: boolean; platform_keys_allowed: boolean; key_found: boolean };

export const toCallAccess = (r: CallAccessRow): CallAccess => ({
  plan: { name: r.plan_name, byokAllowed: r.byok_allowed, platformKeysAllowed: r.platform_keys_allowed },
  key: r.key_found ? withSealed(API_KEYS, r) : undefined,
});

/** Every query on a user's keys is scoped by user id. */
export class ApiKeysRepo extends SealedSecrets<Row, ApiKeyInfo> {
  constructor(db: Queryable) {
    super(db, API_KEYS);
  }

  /** The key with its envelope, only if it belongs to `userId`. */
  async getWithEnvelope(userId: string, id: string): Promise<ApiKeyWithEnvelope | undefined> {
    return (await this.sealed(userId, id))[0];
  }

  /** The user's newest key for a provider (when a call names no key id). */
  async newestIdFor(userId: string, provider: string): Promise<string | undefined> {
    const res = await this.db.query<{ id: string }>(
      'SELECT id FROM api_keys WHERE user_id = $1 AND provider = $2 ORDER BY created_at DESC, id LIMIT 1',
      [userId, provider],
    );
    return res.rows[0]?.id;
  }
}
