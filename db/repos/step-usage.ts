import type { Queryable } from '../port.js';

/** What the latest finished steps of one kind spent, summed (see StepUsageRepo.recent). */
export interface StepUsageSample {
  steps: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

/** Measured usage per step kind, across the server's runs (aggregates only: no run or user is named). */
export class StepUsageRepo {
  constructor(private readonly db: Queryable) {}

  /**
   * The settled model calls of the latest `perKind` succeeded steps of each kind in `kinds`, summed
   * per kind. Each kind walks its own index (steps_succeeded_kind_idx) and the ledger's step index,
   * so the cost is bounded by `perKind`, not by the size of the tables. A kind without any finished
   * step is absent.
   */
  async recent(kinds: readonly string[], perKind: number): Promise<Map<string, StepUsageSample>> {
    const res = await this.db.query<{ kind: string; steps: string; calls: string; input_tokens: string; output_tokens: string }>(
      `SELECT k.kind, count(*)::text AS steps, sum(u.calls)::text AS calls,
              sum(u.input_tokens)::text AS input_tokens, sum(u.output_tokens)::text AS output_tokens
         FROM unnest($1::text[]) AS k(kind)
        CROSS JOIN LATERAL (
          SELECT id FROM steps WHERE kind = k.kind AND status = 'succeeded' ORDER BY finished_at DESC LIMIT $2
        ) s
        CROSS JOIN LATERAL (
          SELECT count(*) AS calls, coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens
            FROM usage_ledger WHERE step_id = s.id AND status = 'settled'
        ) u
        GROUP BY k.kind`,
      [kinds, perKind],
    );
    return new Map(
      res.rows.map((r) => [r.kind, { steps: Number(r.steps), calls: Number(r.calls), inputTokens: Number(r.input_tokens), outputTokens: Number(r.output_tokens) }]),
    );
  }
}
