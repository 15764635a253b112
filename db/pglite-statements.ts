import { messages, parse, protocol, type PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { isStaleResultType, MAX_NAMES, statementName } from './pg-statements.js';

const { serialize } = protocol;
const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute({});
const SYNC = serialize.sync();

interface Prepared {
  name: string;
  /** Parameter type OIDs from the server's ParameterDescription: they pick each value's serializer. */
  paramTypes: number[];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Runs parameterised queries on PGlite as named prepared statements, as `NamedStatements` does on
 * PostgreSQL. PGlite's own `query()` sends Parse (unnamed) / Describe / Bind / Describe / Execute /
 * Sync as six protocol calls into the WASM backend and re-parses and re-plans the SQL every time;
 * here a statement is parsed once (Parse + Describe + Sync, one call) and every execution is one
 * call (Bind + Describe + Execute + Sync), parsed with PGlite's own serializers and parsers.
 *
 * Locking mirrors PGlite's `query()` and `transaction()`: outside a transaction the statement holds
 * the transaction mutex and then the query mutex, and syncs the data directory afterwards; inside
 * one (which already holds the transaction mutex) it holds only the query mutex and leaves the
 * sync to COMMIT. Errors are PGlite's `DatabaseError`s, annotated with query and params as
 * `query()` does, so `code` and `message` reach callers unchanged.
 */
export class PgliteStatements {
  /** null: run through plain `query()` (over the cap, or once its cached plan went stale). */
  private readonly prepared = new Map<string, Prepared | null>();

  constructor(private readonly db: PGlite) {}

  async run<R>(sql: string, params: readonly unknown[] | undefined, tx?: Transaction): Promise<Results<R>> {
    const values = params as unknown[] | undefined;
    if (!values || values.length === 0 || this.prepared.get(sql) === null || (!this.prepared.has(sql) && this.prepared.size >= MAX_NAMES)) {
      return (tx ?? this.db).query<R>(sql, values);
    }
    if (tx) {
      if (tx.closed) throw new Error('Transaction is closed');
      try {
        return await this.db._runExclusiveQuery(() => this.execute<R>(sql, values, true));
      } catch (err) {
        // The error aborted the transaction: its caller's retry will run the statement unnamed.
        if (isStaleResultType(err)) this.prepared.set(sql, null);
        throw err;
      }
    }
    await this.db._checkReady();
    try {
      return await this.db._runExclusiveTransaction(() => this.db._runExclusiveQuery(() => this.execute<R>(sql, values, false)));
    } catch (err) {
      if (!isStaleResultType(err)) throw err;
      this.prepared.set(sql, null);
      return this.db.query<R>(sql, values);
    }
  }

  /** Runs with the query mutex held. */
  private async execute<R>(sql: string, values: unknown[], inTransaction: boolean): Promise<Results<R>> {
    try {
      const stmt = this.prepared.get(sql) ?? (await this.prepare(sql));
      const bind = serialize.bind({
        statement: stmt.name,
        values: values.map((v, i) => {
          if (v === null || v === undefined) return null;
          const serializer = this.db.serializers[stmt.paramTypes[i]!];
          return serializer ? serializer(v) : (v as { toString(): string }).toString();
        }),
      });
      const msgs = await this.db.execProtocolStream(concat([bind, DESCRIBE_PORTAL, EXECUTE, SYNC]), { syncToFs: false });
      if (!inTransaction) await this.db.syncToFs();
      return parse.parseResults(msgs, this.db.parsers)[0] as Results<R>;
    } catch (err) {
      if (err instanceof messages.DatabaseError) Object.assign(err, { query: sql, params: values });
      throw err;
    }
  }

  /** A failed Parse throws before anything is remembered, so the SQL is parsed afresh next time. */
  private async prepare(sql: string): Promise<Prepared> {
    const name = statementName(sql);
    const msgs = await this.db.execProtocolStream(concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), SYNC]), { syncToFs: false });
    const stmt = { name, paramTypes: parse.parseDescribeStatementResults(msgs) };
    this.prepared.set(sql, stmt);
    return stmt;
  }
}
