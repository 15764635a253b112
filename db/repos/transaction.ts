import type { Database, Queryable } from '../port.js';

function isDatabase(q: Queryable): q is Database {
  return typeof (q as Partial<Database>).transaction === 'function';
}

/**
 * Runs `fn` in a transaction: a new one when given the Database, or the caller's own when given
 * a transaction (so repository operations that need several statements and row locks compose
 * into a larger transaction). On PGlite, never pass the outer Database from inside a
 * transaction: its one connection is held by the transaction and the call would wait forever.
 */
export function inTransaction<T>(q: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return isDatabase(q) ? q.transaction(fn) : fn(q);
}
