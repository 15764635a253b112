import type { KeySource } from '../../keys/key-source.js';
import type { Queryable } from '../port.js';
import { CALL_KEY_COLUMNS, toCallAccess, type CallAccess, type CallAccessRow } from './api-keys.js';
import { appendEventCtes, EVENTS_CHANNEL } from '../../events/event-log.js';
import type { EventData } from '../../protocol/event-catalogue.js';
import { inTransaction } from './transaction.js';


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

/**
 * What a model call must be allowed, checked by `reserve` in the reservation's own statement
 * (nothing is reserved when it fails). BYOK: the plan allows own keys, and the key — `keyId`, or
 * the user's newest key of the reservation's provider — exists and is a key of that provider.
 * Platform: the plan allows platform keys and `platformKeyConfigured`.
 */
export interface CallGate {
  keyId?: string | undefined;
  platformKeyConfigured: boolean;
}

export interface ReserveResult {
  /** The plan flags and the BYOK key read by the statement; undefined when the user does not exist. */
  access: CallAccess | undefined;
  /** Undefined when nothing was reserved: the user is missing, the gate refused, or the limit is hit. */
  ledgerId: string | undefined;
}

/** The month's counters against the plan's limit (why a reservation did not fit). */
export interface MonthState {
  limit: number;
  usedTokens: number;
  reservedTokens: number;
}

/** What settling a call also writes, in the same statement (see UsageLedgerRepo.settle). */
export interface SettleAlso {
  /** The BYOK key that served a completed call: last_used_at = `at`, unless set within the last minute. */
  touchKey?: { id: string; at: Date } | undefined;
  /** The call's run: its token and cost totals are set to the sums of its settled ledger rows, this call's included. */
  runId?: string | undefined;
  /** A durable event of the project; `runTokens` and `runCostMicroUsd` (the run's new totals) are added to `data`. */
  usageEvent?: { projectId: string; runId: string; type: 'llm.usage'; data: Omit<EventData<'llm.usage'>, RunTotalsField> } | undefined;
}

/** The llm.usage fields the settle statement fills in from the run's row. */
export type RunTotalsField = 'runTokens' | 'runCostMicroUsd';

/** A run's totals after a settlement: the sums of its settled ledger rows. */
export interface RunTotals {
  /** Input plus output tokens. */
  tokens: number;
  costMicroUsd: number;
}

export interface Settlement {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicroUsd: number | null;
  /** Counted against the monthly limit (input + output). */
  usedTokens: number;
  /** The provider reported no usage: the tokens are an estimate. */
  estimated: boolean;
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
  /** Calls billed at an estimate because the provider reported no usage. */
  estimatedCalls: number;
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
   * Takes `tokens` from the user's month if they fit under the plan's limit and `gate` (when given)
   * admits the call, and records the call on the ledger — one statement, so one round trip and
   * atomic without an explicit transaction, and a plan change or a deleted key takes effect on the
   * very next call. The check and the increment are one INSERT … ON CONFLICT DO UPDATE … WHERE:
   * the month's row is locked and the WHERE is evaluated on its latest version, so concurrent
   * reservations serialise on the counter and can never overshoot together (a first reservation of
   * the month inserts the row, checked against the limit by the SELECT). The ledger row is
   * inserted only when the counter was taken. The row also returns what the gate read (plan flags,
   * the BYOK key with its envelope), so the caller can tell why nothing was reserved.
   */
  async reserve(r: ReservationInput, gate?: CallGate): Promise<ReserveResult> {
    const res = await this.db.query<CallAccessRow & { ledger_id: string | null }>(
      `WITH access AS (
         SELECT u.id AS account_id, p.name AS plan_name, p.byok_allowed, p.platform_keys_allowed, p.monthly_token_limit,
                k.id IS NOT NULL AS key_found, k.*
           FROM users u JOIN plans p ON p.id = u.plan_id
           LEFT JOIN LATERAL (
             SELECT ${CALL_KEY_COLUMNS} FROM api_keys
              WHERE $11 AND $9::text = 'byok' AND user_id = u.id AND CASE WHEN $12::uuid IS NULL THEN provider = $7::text ELSE id = $12::uuid END
              ORDER BY created_at DESC, id LIMIT 1
           ) k ON true
          WHERE u.id = $1
       ), admitted AS (
         SELECT account_id, monthly_token_limit, id AS key_id FROM access
          WHERE NOT $11 OR CASE WHEN $9::text = 'byok' THEN byok_allowed AND key_found AND provider = $7::text ELSE platform_keys_allowed AND $13 END
       ), taken AS (
         INSERT INTO usage_months AS m (user_id, month, reserved_tokens)
         SELECT account_id, $2::date, $3::bigint FROM admitted WHERE monthly_token_limit IS NULL OR $3::bigint <= monthly_token_limit
         ON CONFLICT (user_id, month) DO UPDATE SET reserved_tokens = m.reserved_tokens + $3::bigint
          WHERE (SELECT monthly_token_limit FROM admitted) IS NULL
             OR m.used_tokens + m.reserved_tokens + $3::bigint <= (SELECT monthly_token_limit FROM admitted)
         RETURNING 1
       ), ledger AS (
         INSERT INTO usage_ledger (user_id, project_id, run_id, step_id, month, provider, model, key_source, key_ref, status, reserved_tokens)
         SELECT $1, $4, $5, $6, $2::date, $7, $8, $9, COALESCE($10, (SELECT key_id FROM admitted)), 'reserved', $3::bigint FROM taken
         RETURNING id
       )
       SELECT access.*, (SELECT id FROM ledger) AS ledger_id FROM access`,
      [
        r.userId, r.month, r.tokens, r.projectId ?? null, r.runId ?? null, r.stepId ?? null, r.provider, r.model, r.keySource, r.keyRef,
        gate !== undefined, gate?.keyId ?? null, gate?.platformKeyConfigured ?? false,
      ],
    );
    const row = res.rows[0];
    return { access: row && toCallAccess(row), ledgerId: row?.ledger_id ?? undefined };
  }

  /** The user's counters of `month` and the plan's limit (0 when the user does not exist). */
  async monthState(userId: string, month: string): Promise<MonthState> {
    const now = await this.db.query<{ used_tokens: string | null; reserved_tokens: string | null; monthly_token_limit: string | null }>(
      `SELECT m.used_tokens, m.reserved_tokens, p.monthly_token_limit
         FROM users u JOIN plans p ON p.id = u.plan_id LEFT JOIN usage_months m ON m.user_id = u.id AND m.month = $2
        WHERE u.id = $1`,
      [userId, month],
    );
    const row = now.rows[0];
    return { limit: Number(row?.monthly_token_limit ?? 0), usedTokens: Number(row?.used_tokens ?? 0), reservedTokens: Number(row?.reserved_tokens ?? 0) };
  }

  /**
   * Settles a reservation to the real usage: the ledger row gets the tokens and cost, the month's
   * counter trades the reservation for the tokens used, and `also` is written — one statement, so
   * one round trip and atomic without an explicit transaction: the run's totals can never miss a
   * settled call, whenever the process dies; its cost
   * is the sum of the ledger's, so a run is priced exactly as /api/usage bills it. Settling twice changes nothing in the ledger.
   * All CTEs see the statement's one snapshot, where this call's row is still 'reserved' (unless it
   * was settled before): the run's sum adds this settlement's tokens to the other settled rows.
   * @returns whether this call settled the row, and the run's new totals (with `runId`).
   */
  async settle(userId: string, ledgerId: string, s: Settlement, also: SettleAlso = {}): Promise<{ settled: boolean; runTotals: RunTotals | undefined }> {
    const event = also.usageEvent;
    const res = await this.db.query<{ settled: number; run_tokens: string | null; run_cost: string | null }>(
      `WITH s AS (
         UPDATE usage_ledger SET status = 'settled', input_tokens = $3, output_tokens = $4, cache_read_tokens = $5,
                cache_write_tokens = $6, cost_micro_usd = $7, key_ref = COALESCE($8, key_ref), estimated = $18, settled_at = now()
          WHERE id = $1 AND user_id = $2 AND status = 'reserved'
          RETURNING user_id, month, reserved_tokens, run_id, input_tokens, output_tokens, cost_micro_usd, estimated
       ), released AS (
         UPDATE usage_months m SET reserved_tokens = GREATEST(m.reserved_tokens - s.reserved_tokens, 0), used_tokens = m.used_tokens + $9
           FROM s WHERE m.user_id = s.user_id AND m.month = s.month
         RETURNING 1
       ), touched AS (
         UPDATE api_keys SET last_used_at = $11
          WHERE id = $10::uuid AND user_id = $2 AND (last_used_at IS NULL OR last_used_at < $11::timestamptz - interval '1 minute')
         RETURNING 1
       ), totals AS (
         UPDATE runs r SET input_tokens = l.input_tokens, output_tokens = l.output_tokens, cost_micro_usd = l.cost_micro_usd,
                estimated_calls = l.estimated_calls
           FROM (SELECT COALESCE(sum(input_tokens), 0) + COALESCE((SELECT input_tokens FROM s WHERE run_id = $12), 0) AS input_tokens,
                        COALESCE(sum(output_tokens), 0) + COALESCE((SELECT output_tokens FROM s WHERE run_id = $12), 0) AS output_tokens,
                        COALESCE(sum(cost_micro_usd), 0) + COALESCE((SELECT cost_micro_usd FROM s WHERE run_id = $12), 0) AS cost_micro_usd,
                        count(*) FILTER (WHERE estimated) + (SELECT count(*) FROM s WHERE run_id = $12 AND estimated) AS estimated_calls
                   FROM usage_ledger WHERE run_id = $12 AND status = 'settled') l
          WHERE r.id = $12
          RETURNING r.input_tokens + r.output_tokens AS tokens, r.cost_micro_usd AS cost
       ), ${appendEventCtes({
         projectId: '$13::uuid',
         runId: '$14::uuid',
         type: '$15::text',
         data: "$16::jsonb || jsonb_build_object('runTokens', (SELECT tokens FROM totals), 'runCostMicroUsd', (SELECT cost FROM totals))",
         channel: '$17::text',
       })}
       SELECT (SELECT count(*) FROM s)::int AS settled, (SELECT count(*) FROM released)::int AS released,
              (SELECT count(*) FROM touched)::int AS touched, (SELECT tokens FROM totals)::text AS run_tokens, (SELECT cost FROM totals)::text AS run_cost,
              (SELECT count(*) FROM event_notified)::int AS events`,
      [
        ledgerId, userId, s.inputTokens, s.outputTokens, s.cacheReadTokens, s.cacheWriteTokens, s.costMicroUsd, s.keyRef ?? null, s.usedTokens,
        also.touchKey?.id ?? null, also.touchKey?.at ?? null, also.runId ?? null,
        event?.projectId ?? null, event?.runId ?? null, event?.type ?? null, JSON.stringify(event?.data ?? {}), EVENTS_CHANNEL, s.estimated,
      ],
    );
    const row = res.rows[0];
    const runTotals = row?.run_tokens == null ? undefined : { tokens: Number(row.run_tokens), costMicroUsd: Number(row.run_cost ?? 0) };
    return { settled: Number(row?.settled ?? 0) > 0, runTotals };
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
              sum(cost_micro_usd)::text AS cost_micro_usd, count(*) FILTER (WHERE status = 'reserved')::int AS pending,
              count(*) FILTER (WHERE estimated)::int AS estimated_calls
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
      estimatedCalls: Number(r.estimated_calls),
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
