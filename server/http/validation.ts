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

export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'path parameters'): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError('E_VALIDATION', describeIssues(where, parsed.error.issues), {
    details: { fields: parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}
