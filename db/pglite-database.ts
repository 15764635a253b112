import { PGlite } from '@electric-sql/pglite';
import { assertChannel, type Database, type Queryable, type QueryResult, type Unlisten } from './port.js';

/**
 * PGlite runs PostgreSQL in-process over one connection. Its own mutex serialises queries and
 * gives a transaction exclusive use of the connection, so row locks and SKIP LOCKED behave as
 * on a server with one client.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  /** @param dataDir a directory for a durable database; omit for an in-memory one. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    const db = dataDir ? new PGlite(dataDir) : new PGlite();
    await db.waitReady;
    return new PgliteDatabase(db);
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.db.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          const res = await t.query<R>(sql, params as unknown[] | undefined);
          return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      }),
    );
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<Unlisten> {
    const unsub = await this.db.listen(assertChannel(channel), onPayload);
    return async () => unsub();
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.db.query('SELECT pg_notify($1, $2)', [assertChannel(channel), payload]);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
