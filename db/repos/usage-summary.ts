import type { Queryable } from '../port.js';

/** The first day of the UTC month holding `at`: the key of a user's monthly usage counter. */
export function monthOf(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

export interface MonthUsage {
  month: string;
  usedTokens: number;
  reservedTokens: number;
  /** Wall-clock seconds of sandbox commands (millisecond precision). */
  sandboxSeconds: number;
}

export async function monthUsage(db: Queryable, userId: string, at: Date): Promise<MonthUsage> {
  const month = monthOf(at);
  const res = await db.query<{ used_tokens: number; reserved_tokens: number; sandbox_ms: number }>(
    'SELECT used_tokens, reserved_tokens, sandbox_ms FROM usage_months WHERE user_id = $1 AND month = $2',
    [userId, month],
  );
  const row = res.rows[0];
  return { month, usedTokens: Number(row?.used_tokens ?? 0), reservedTokens: Number(row?.reserved_tokens ?? 0), sandboxSeconds: Number(row?.sandbox_ms ?? 0) / 1000 };
}
