import type { Database } from '../db/port.js';
import { fingerprint, parseHostKeyPin, type HostKey } from './host-keys.js';
import type { GitRemote } from './remote-url.js';

export interface KnownHost {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly keys: readonly HostKey[];
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
}

interface Row {
  id: string;
  host: string;
  port: number;
  keys: string;
  created_at: Date;
  last_used_at: Date;
}

const toKnownHost = (r: Row): KnownHost => ({ id: r.id, host: r.host, port: r.port, keys: parseHostKeyPin(r.keys).keys, createdAt: r.created_at, lastUsedAt: r.last_used_at });

/**
 * A user's known SSH hosts, as an ssh client's known_hosts: the keys of a host are remembered once
 * the user pinned them (`hostKey`) on an operation that then succeeded, and later operations on
 * that host and port trust those keys without a pin. A changed key is refused, as before; pinning
 * the new one on a successful operation replaces it.
 */
export class KnownHostsRepo {
  constructor(private readonly db: Database) {}

  /** The pin to use for `remote`: the request's, else the keys remembered for its host and port. */
  async pinFor(userId: string, remote: GitRemote, requested: string | undefined): Promise<string | undefined> {
    if (requested !== undefined || remote.transport !== 'ssh') return requested;
    const res = await this.db.query<Row>('UPDATE git_known_hosts SET last_used_at = now() WHERE user_id = $1 AND host = $2 AND port = $3 RETURNING *', [userId, remote.host.toLowerCase(), remote.port]);
    const row = res.rows[0];
    return row ? row.keys : undefined;
  }

  /** After an operation that succeeded with keys the user pinned: those keys are the host's from now on. */
  async remember(userId: string, remote: GitRemote, keys: readonly HostKey[]): Promise<void> {
    if (remote.transport !== 'ssh' || keys.length === 0) return;
    await this.db.query(
      `INSERT INTO git_known_hosts (user_id, host, port, keys) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, host, port) DO UPDATE SET keys = EXCLUDED.keys, last_used_at = now()`,
      [userId, remote.host.toLowerCase(), remote.port, keys.map((k) => `${k.type} ${k.base64}`).join('\n')],
    );
  }

  async list(userId: string): Promise<KnownHost[]> {
    const res = await this.db.query<Row>('SELECT * FROM git_known_hosts WHERE user_id = $1 ORDER BY host, port', [userId]);
    return res.rows.map(toKnownHost);
  }

  /** Forgets a host: the next operation on it needs a pin again. False when the user has no such entry. */
  async forget(userId: string, id: string): Promise<boolean> {
    const res = await this.db.query('DELETE FROM git_known_hosts WHERE user_id = $1 AND id = $2', [userId, id]);
    return (res.rowCount ?? 0) > 0;
  }
}

/** What the API shows of a known host's keys: type and fingerprint. */
export const keyFingerprints = (keys: readonly HostKey[]) => keys.map((k) => ({ type: k.type, fingerprint: fingerprint(k) }));
