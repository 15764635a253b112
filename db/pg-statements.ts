import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { QueryResult } from './port.js';

/** More distinct statements than the code has means SQL built from data: those run unnamed. */
export const MAX_NAMES = 1000;

/** The statement's name on the connection: derived from its SQL text, under PostgreSQL's 63 bytes. */
export function statementName(sql: string): string {
  return `s_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

/**
 * Runs parameterised queries as named (prepared) statements, the name derived from the SQL text.
 * pg prepares a name once per connection and afterwards sends only Bind/Execute, so PostgreSQL
 * parses and plans each statement once per connection instead of once per query.
 *
 * One catch: a statement prepared before a migration changed a table's columns fails with
 * "cached plan must not change result type" if it selects `*` of that table (PostgreSQL
 * re-plans it, but the row shape the client was told has changed). Such a statement is retried,
 * and from then on run, unnamed.
 */
export function isStaleResultType(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

export class NamedStatements {
  private readonly names = new Map<string, string | null>();

  /** @param on the pool, or a transaction's client (where a failed statement cannot be retried). */
  async run<R>(on: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[] | undefined, inTransaction: boolean): Promise<QueryResult<R>> {
    const name = params && params.length > 0 ? this.nameOf(sql) : null;
    const values = params as unknown[] | undefined;
    let res: pg.QueryResult;
    try {
      res = await on.query(name ? { name, text: sql, values } : { text: sql, values });
    } catch (err) {
      if (!name || !isStaleResultType(err)) throw err;
      this.names.set(sql, null);
      // The error aborted the transaction: its caller's retry will run the statement unnamed.
      if (inTransaction) throw err;
      res = await on.query({ text: sql, values });
    }
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  private nameOf(sql: string): string | null {
    let name = this.names.get(sql);
    if (name === undefined) {
      name = this.names.size < MAX_NAMES ? statementName(sql) : null;
      this.names.set(sql, name);
    }
    return name;
  }
}
