import { AppError } from '../../core/errors.js';
import { UUID_PATTERN } from '../../core/uuid.js';
import type { Queryable } from '../port.js';

export interface PageRequest {
  /** 1..100 (default 20). */
  limit?: number;
  /** The `nextCursor` of the previous page; omit for the first (newest) page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

function pageLimit(req: PageRequest): number {
  const n = req.limit ?? DEFAULT_PAGE_SIZE;
  return Number.isInteger(n) ? Math.min(MAX_PAGE_SIZE, Math.max(1, n)) : DEFAULT_PAGE_SIZE;
}

/**
 * Keyset cursors: (created_at, id) of the last item. The timestamp travels as PostgreSQL's own
 * text (microseconds), not a JS Date (milliseconds), so rows created in the same millisecond
 * are neither skipped nor repeated.
 */
interface KeysetPosition {
  createdAt: string;
  id: string;
}

function encodeCursor(pos: KeysetPosition): string {
  return Buffer.from(JSON.stringify([pos.createdAt, pos.id])).toString('base64url');
}

const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)$/;

function decodeCursor(cursor: string): KeysetPosition {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && PG_TIMESTAMPTZ.test(v[0]) && UUID_PATTERN.test(v[1])) {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError('E_VALIDATION', 'cursor: not a cursor returned by this list');
}

/** A row of a paged list: `created_at_key` is `created_at::text`, the cursor's timestamp. */
export interface KeysetRow {
  id: string;
  created_at_key: string;
}

/**
 * One page of a list, newest first (by created_at, then id). `query` is the SELECT … FROM and
 * the WHERE of the list, whose parameters are `params` ($1…$n); the cursor's condition, the order
 * and the limit are added here. One row more than the page is read: it only says "there is more".
 */
export async function newestFirstPage<R extends KeysetRow, T>(
  db: Queryable,
  query: { select: string; where: string; params: unknown[] },
  page: PageRequest,
  map: (r: R) => T,
): Promise<Page<T>> {
  const limit = pageLimit(page);
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const n = query.params.length;
  const res = await db.query<R>(
    `${query.select}
     WHERE (${query.where}) AND ($${n + 1}::timestamptz IS NULL OR (created_at, id) < ($${n + 1}::timestamptz, $${n + 2}::uuid))
     ORDER BY created_at DESC, id DESC
     LIMIT $${n + 3}`,
    [...query.params, after?.createdAt ?? null, after?.id ?? null, limit + 1],
  );
  const more = res.rows.length > limit;
  const shown = more ? res.rows.slice(0, limit) : res.rows;
  const last = shown[shown.length - 1];
  return { items: shown.map(map), nextCursor: more && last ? encodeCursor({ createdAt: last.created_at_key, id: last.id }) : null };
}
