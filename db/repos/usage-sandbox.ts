import type { Queryable } from '../port.js';

/** The user's sandbox time this month against the plan's monthly_sandbox_seconds. */
export interface SandboxAllowance {
  planName: string;
  /** null: the plan has no limit. */
  limitSeconds: number | null;
  usedMs: number;
}

/**
 * Wall-clock time of sandbox commands: counted per user and month (usage_months.sandbox_ms, the
 * counter the plan's monthly_sandbox_seconds is checked against) and per run (runs.sandbox_ms).
 */
export class SandboxUsageRepo {
  constructor(private readonly db: Queryable) {}

  /** Undefined when the user does not exist. */
  async allowance(userId: string, month: string): Promise<SandboxAllowance | undefined> {
    const res = await this.db.query<{ plan_name: string; monthly_sandbox_seconds: string | number | null; sandbox_ms: string | number | null }>(
      `SELECT p.name AS plan_name, p.monthly_sandbox_seconds, m.sandbox_ms
         FROM users u JOIN plans p ON p.id = u.plan_id LEFT JOIN usage_months m ON m.user_id = u.id AND m.month = $2
        WHERE u.id = $1`,
      [userId, month],
    );
    const row = res.rows[0];
    if (!row) return undefined;
    return {
      planName: row.plan_name,
      limitSeconds: row.monthly_sandbox_seconds === null ? null : Number(row.monthly_sandbox_seconds),
      usedMs: Number(row.sandbox_ms ?? 0),
    };
  }

  /** Adds `ms` to the user's month and to the run, in one statement (both or neither). */
  async record(userId: string, runId: string, month: string, ms: number): Promise<void> {
    await this.db.query(
      `WITH run AS (UPDATE runs SET sandbox_ms = sandbox_ms + $4 WHERE id = $2 RETURNING 1)
       INSERT INTO usage_months AS m (user_id, month, sandbox_ms) VALUES ($1, $3::date, $4)
       ON CONFLICT (user_id, month) DO UPDATE SET sandbox_ms = m.sandbox_ms + $4`,
      [userId, runId, month, ms],
    );
  }
}
