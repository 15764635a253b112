/**
 * The database port: the few operations the repositories, migrations and queue need. Two
 * adapters implement it: `pg` (a pool against any PostgreSQL server, Supabase included) and
 * PGlite (PostgreSQL compiled to WASM, in-process; the no-setup default).
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type Unlisten = () => Promise<void>;

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; the handler gets each NOTIFY payload. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<Unlisten>;
  notify(channel: string, payload: string): Promise<void>;
  /** Cheap round trip used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** LISTEN takes an identifier, not a parameter, so channel names are checked before use. */
export function assertChannel(channel: string): string {
  if (!CHANNEL.test(channel)) throw new Error(`invalid LISTEN channel name: ${channel}`);
  return channel;
}
