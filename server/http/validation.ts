import type { z } from 'zod';
import { AppError } from '../../core/errors.js';

/** Turns zod issues into one message that names each bad field and what it needs. */
export function describeIssues(where: string, issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, 10).map((i) => {
    const field = i.path.length > 0 ? i.path.map(String).join('.') : where;
    return `${field}: ${i.message}`;
  });
  const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : '';
  return `Invalid ${where}. ${parts.join('; ')}${more}`;
}

/**
 * The path of the first string (or key) holding a NUL character, if any. PostgreSQL text cannot
 * store NUL, and no field of this API needs one, so it is refused up front for every input
 * rather than surfacing as a database error (a 500) from whichever route forgot.
 */
function findNul(value: unknown): string | undefined {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k.includes('\u0000')) return p;
        stack.push({ v: child, path: p });
      }
    }
  }
  return undefined;
}

export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'path parameters'): T {
  const nul = findNul(value);
  if (nul !== undefined) {
    throw new AppError('E_VALIDATION', `Invalid ${where}. ${nul || where}: must not contain NUL characters`, { details: { fields: [{ path: nul, message: 'must not contain NUL characters' }] } });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError('E_VALIDATION', describeIssues(where, parsed.error.issues), {
    details: { fields: parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}
