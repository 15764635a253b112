import type { Queryable } from '../port.js';
import { inTransaction } from './transaction.js';

export type KeySource = 'byok' | 'platform';

export interface ReservationInput {
  userId: string;
  /** First day of the month the tokens count against (see monthOf). */
  month: string;
  tokens: number;
  provider: string;
  model: string;
  keySource: KeySource;
  /** Which key served the call: the BYOK key id or the platform key fingerprint (never the secret). */
  keyRef: string | null;
  projectId?: string | undefined;
  runId?: string | undefined;
  stepId?: string | undefined;
}

export type ReserveResult =
  | { ok: true; ledgerId: string }
  | { ok: false; limit: number; usedTokens: number; reservedTokens: number };

export interface Settlement {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicroUsd: number | null;
  /** Counted against the monthly limit (input + output). */
  usedTokens: number;
  keyRef?: string | null | undefined;
}

export interface UsageTotalsRow {
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Sum over priced calls; null when no call of this model had a price. */
  costMicroUsd: number | null;
  /** Calls still in flight (reserved, not yet settled). */
  pending: number;
}

/**
 * The usage ledger: one row per LLM call, and the per-user monthly counter the plan's token limit
 * is enforced on. Reserving and settling each run in one transaction, so the counter and the
 * ledger never disagree.
 */
export class UsageLedgerRepo {
  /** @param db a transaction is enough for reserve, settle and totals; expireStale opens its own. */
  constructor(private readonly db: Queryable) {}

  /**
   * Takes `tokens` from the user's month if they fit under the plan's limit, and records the call
   * on the ledger — one statement, so one round trip and atomic without an explicit transaction.
   * The check and the increment are one INSERT … ON CONFLICT DO UPDATE … WHERE: the month's row is
   * locked and the WHERE is evaluated on its latest version, so concurrent reservations serialise
   * on the counter and can never overshoot together (a first reservation of the month inserts the
   * row, checked against the limit by the SELECT). The ledger row is inserted only when the
   * counter was taken.
   */
  async reserve(r: ReservationInput): Promise<ReserveResult> {
    const taken = await this.db.query<{ id: string }>(
      `WITH taken AS (
         INSERT INTO usage_months AS m (user_id, month, reserved_tokens)
         SELECT u.id, $2::date, $3::bigint
           FROM users u JOIN plans p ON p.id = u.plan_id
          WHERE u.id = $1 AND (p.monthly_token_limit IS NULL OR $3::bigint <= p.monthly_token_limit)
         ON CONFLICT (user_id, month) DO UPDATE SET reserved_tokens = m.reserved_tokens + $3::bigint
          WHERE (SELECT p.monthly_token_limit FROM users u JOIN plans p ON p.id = u.plan_id WHERE u.id = $1) IS NULL
             OR m.used_tokens + m.reserved_tokens + $3::bigint <= (SELECT p.monthly_token_limit FROM users u JOIN plans p ON p.id = u.plan_id WHERE u.id = $1)
         RETURNING 1
       )
       INSERT INTO usage_ledger (user_id, project_id, run_id, step_id, month, provider, model, key_source, key_ref, status, reserved_tokens)
       SELECT $1, $4, $5, $6, $2::date, $7, $8, $9, $10, 'reserved', $3::bigint FROM taken
       RETURNING id`,
      [r.userId, r.month, r.tokens, r.projectId ?? null, r.runId ?? null, r.stepId ?? null, r.provider, r.model, r.keySource, r.keyRef],
    );
    const ledgerId = taken.rows[0]?.id;
    if (ledgerId !== undefined) return { ok: true, ledgerId };
    const now = await this.db.query<{ used_tokens: string | null; reserved_tokens: string | null; monthly_token_limit: string | null }>(
      `SELECT m.used_tokens, m.reserved_tokens, p.monthly_token_limit
         FROM users u JOIN plans p ON p.id = u.plan_id LEFT JOIN usage_months m ON m.user_id = u.id AND m.month = $2
        WHERE u.id = $1`,
      [r.userId, r.month],
    );
    const row = now.rows[0];
    return { ok: false, limit: Number(row?.monthly_token_limit ?? 0), usedTokens: Number(row?.used_tokens ?? 0), reservedTokens: Number(row?.reserved_tokens ?? 0) };
  }

  /**
   * Settles a reservation to the real usage: the ledger row gets the tokens and cost, the month's
   * counter trades the reservation for the tokens used — one statement (atomic). Settling twice
   * changes nothing.
   */
  async settle(userId: string, ledgerId: string, s: Settlement): Promise<boolean> {
    const res = await this.db.query<{ settled: number }>(
      `WITH s AS (
         UPDATE usage_ledger SET status = 'settled', input_tokens = $3, output_tokens = $4, cache_read_tokens = $5,
                cache_write_tokens = $6, cost_micro_usd = $7, key_ref = COALESCE($8, key_ref), settled_at = now()
          WHERE id = $1 AND user_id = $2 AND status = 'reserved'
          RETURNING user_id, month, reserved_tokens
       ), released AS (
         UPDATE usage_months m SET reserved_tokens = GREATEST(m.reserved_tokens - s.reserved_tokens, 0), used_tokens = m.used_tokens + $9
           FROM s WHERE m.user_id = s.user_id AND m.month = s.month
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM s)::int AS settled, (SELECT count(*) FROM released)::int AS released`,
      [ledgerId, userId, s.inputTokens, s.outputTokens, s.cacheReadTokens, s.cacheWriteTokens, s.costMicroUsd, s.keyRef ?? null, s.usedTokens],
    );
    return Number(res.rows[0]?.settled ?? 0) > 0;
  }

  /**
   * Reservations older than `before` whose process died before settling (a crash, a kill -9):
   * settled at zero so they stop holding the user's budget. The age threshold is far above any
   * call's timeout, so no live call is touched, whichever node owns it.
   */
  async expireStale(before: Date): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const rows = await tx.query<{ user_id: string; month: string; reserved_tokens: string }>(
        `UPDATE usage_ledger SET status = 'settled', settled_at = now()
          WHERE status = 'reserved' AND created_at < $1
          RETURNING user_id, to_char(month, 'YYYY-MM-DD') AS month, reserved_tokens`,
        [before],
      );
      for (const r of rows.rows) await releaseIntoUsed(tx, r.user_id, r.month, Number(r.reserved_tokens), 0);
      return rows.rowCount;
    });
  }

  /** This month's calls of one user, grouped by provider and model. */
  async totals(userId: string, month: string): Promise<UsageTotalsRow[]> {
    const res = await this.db.query<Record<string, string | number | null>>(
      `SELECT provider, model, count(*)::int AS calls,
              coalesce(sum(input_tokens), 0)::text AS input_tokens, coalesce(sum(output_tokens), 0)::text AS output_tokens,
              coalesce(sum(cache_read_tokens), 0)::text AS cache_read_tokens, coalesce(sum(cache_write_tokens), 0)::text AS cache_write_tokens,
              sum(cost_micro_usd)::text AS cost_micro_usd, count(*) FILTER (WHERE status = 'reserved')::int AS pending
         FROM usage_ledger WHERE user_id = $1 AND month = $2
        GROUP BY provider, model ORDER BY provider, model`,
      [userId, month],
    );
    return res.rows.map((r) => ({
      provider: String(r.provider),
      model: String(r.model),
      calls: Number(r.calls),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      cacheReadTokens: Number(r.cache_read_tokens),
      cacheWriteTokens: Number(r.cache_write_tokens),
      costMicroUsd: r.cost_micro_usd === null ? null : Number(r.cost_micro_usd),
      pending: Number(r.pending),
    }));
  }
}

async function releaseIntoUsed(tx: Queryable, userId: string, month: string, reserved: number, used: number): Promise<void> {
  await tx.query(
    `UPDATE usage_months SET reserved_tokens = GREATEST(reserved_tokens - $3, 0), used_tokens = used_tokens + $4
      WHERE user_id = $1 AND month = $2`,
    [userId, month, reserved, used],
  );
}
