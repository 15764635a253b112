import { AppError } from '../../core/errors.js';
import { UUID_PATTERN } from '../../core/uuid.js';

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

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function pageLimit(req: PageRequest): number {
  const n = req.limit ?? DEFAULT_PAGE_SIZE;
  return Number.isInteger(n) ? Math.min(MAX_PAGE_SIZE, Math.max(1, n)) : DEFAULT_PAGE_SIZE;
}

/**
 * Keyset cursors: (created_at, id) of the last item. The timestamp travels as PostgreSQL's own
 * text (microseconds), not a JS Date (milliseconds), so rows created in the same millisecond
 * are neither skipped nor repeated.
 */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

export function encodeCursor(pos: KeysetPosition): string {
  return Buffer.from(JSON.stringify([pos.createdAt, pos.id])).toString('base64url');
}

const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)$/;

export function decodeCursor(cursor: string): KeysetPosition {
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

/**
 * Builds a page from rows fetched with LIMIT limit+1 (the extra row only says "there is more").
 * Rows carry `created_at_key` (created_at::text) for the cursor.
 */
export function toPage<R extends { id: string; created_at_key: string }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return { items: shown.map(map), nextCursor: more && last ? encodeCursor({ createdAt: last.created_at_key, id: last.id }) : null };
}
