import { PGlite } from '@electric-sql/pglite';
import { PgliteStatements } from './pglite-statements.js';
import { assertChannel, type Database, type Queryable, type QueryResult, type Unlisten } from './port.js';

/**
 * pg's rowCount: rows affected by INSERT/UPDATE/DELETE, rows returned by SELECT. PGlite reports
 * affectedRows = 0 for a SELECT, so the larger of the two is the number pg would give.
 */
function toResult<R>(res: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
}

/**
 * PGlite runs PostgreSQL in-process over one connection. Its own mutex serialises queries and
 * gives a transaction exclusive use of the connection, so row locks and SKIP LOCKED behave as
 * on a server with one client.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private readonly statements: PgliteStatements;

  private constructor(private readonly db: PGlite) {
    this.statements = new PgliteStatements(db);
  }

  /** @param dataDir a directory for a durable database; omit for an in-memory one. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    const db = dataDir ? new PGlite(dataDir) : new PGlite();
    await db.waitReady;
    return new PgliteDatabase(db);
  }

  /**
   * An in-memory database started from a `dumpDataDir()` tarball, skipping initdb (most of a
   * fresh start): the test suite clones every PGlite database from one template this way.
   */
  static async load(dump: Blob): Promise<PgliteDatabase> {
    const db = new PGlite({ loadDataDir: dump });
    await db.waitReady;
    return new PgliteDatabase(db);
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return toResult(await this.statements.run<R>(sql, params));
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          return toResult(await this.statements.run<R>(sql, params, t));
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
    await this.statements.run('SELECT pg_notify($1, $2)', [assertChannel(channel), payload]);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
