import type { Clock } from '../../core/clock.js';
import { AppError } from '../../core/errors.js';
import type { Database, Queryable } from '../../db/port.js';
import { PlansRepo, type Plan } from '../../db/repos/plans.js';
import { monthOf, monthUsage } from '../../db/repos/usage-summary.js';
import { UsageLedgerRepo, type KeySource, type UsageTotalsRow } from '../../db/repos/usage-ledger.js';
import { UsersRepo } from '../../db/repos/users.js';
import type { Usage } from '../providers/port.js';
import type { PriceTable } from './prices.js';

export interface ReserveRequest {
  userId: string;
  provider: string;
  model: string;
  keySource: KeySource;
  keyRef: string | null;
  tokens: number;
  projectId?: string | undefined;
  runId?: string | undefined;
  stepId?: string | undefined;
}

/** A reservation held for one call; settle it exactly once (later calls are no-ops). */
export interface Reservation {
  ledgerId: string;
  userId: string;
  provider: string;
  model: string;
  tokens: number;
}

export interface UsageSummary {
  month: string;
  plan: { id: string; name: string; monthlyTokenLimit: number | null; byokAllowed: boolean; platformKeysAllowed: boolean };
  /** Counted against the limit: settled input + output tokens. */
  usedTokens: number;
  /** Held by calls in flight. */
  reservedTokens: number;
  /** limit − used − reserved (never below 0); null when the plan is unlimited. */
  remainingTokens: number | null;
  costMicroUsd: number;
  byModel: UsageTotalsRow[];
}

/** Tokens a call counts against the monthly limit: input (cached prompt tokens included, as the port defines it) + output. */
export const countedTokens = (u: Usage): number => u.inputTokens + u.outputTokens;

/** The plan's monthly token limit, enforced with reservations (see UsageLedgerRepo.reserve). */
export class UsageLedger {
  private readonly repo: UsageLedgerRepo;

  constructor(
    private readonly db: Database,
    private readonly prices: PriceTable,
    private readonly clock: Clock,
  ) {
    this.repo = new UsageLedgerRepo(db);
  }

  /** Reserves the call's worst case, or throws E_LIMIT (limit_exceeded) without reserving anything. */
  async reserve(r: ReserveRequest): Promise<Reservation> {
    const month = monthOf(this.clock.now());
    const result = await this.repo.reserve({ ...r, month });
    if (!result.ok) {
      throw new AppError(
        'E_LIMIT',
        `limit_exceeded: this call needs up to ${r.tokens} tokens but the plan's monthly token limit of ${result.limit} leaves ` +
          `${Math.max(0, result.limit - result.usedTokens - result.reservedTokens)} this month (${result.usedTokens} used, ${result.reservedTokens} reserved by calls in flight).`,
        { details: { limit: 'monthly_tokens', monthlyTokenLimit: result.limit, usedTokens: result.usedTokens, reservedTokens: result.reservedTokens, requestedTokens: r.tokens } },
      );
    }
    return { ledgerId: result.ledgerId, userId: r.userId, provider: r.provider, model: r.model, tokens: r.tokens };
  }

  /**
   * Settles to what the provider reported (nothing reported: zero) and releases the rest; in `tx`
   * when given (with the caller's writes that belong to it).
   */
  async settle(reservation: Reservation, usage: Usage | undefined, keyRef?: string | null, tx?: Queryable): Promise<void> {
    const u = usage ?? { inputTokens: 0, outputTokens: 0 };
    await (tx ? new UsageLedgerRepo(tx) : this.repo).settle(reservation.userId, reservation.ledgerId, {
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      cacheReadTokens: u.cacheReadTokens ?? 0,
      cacheWriteTokens: u.cacheWriteTokens ?? 0,
      costMicroUsd: this.prices.costMicroUsd(reservation.provider, reservation.model, u),
      usedTokens: countedTokens(u),
      keyRef,
    });
  }

  /** Releases reservations a dead process left behind (older than `maxAgeMs`). */
  expireStale(maxAgeMs: number): Promise<number> {
    return this.repo.expireStale(new Date(this.clock.now().getTime() - maxAgeMs));
  }

  async summary(userId: string): Promise<UsageSummary> {
    const user = await new UsersRepo(this.db).findById(userId);
    const plan: Plan | undefined = user && (await new PlansRepo(this.db).get(user.planId));
    if (!plan) throw new AppError('E_NOT_FOUND', 'Plan not found');
    const now = this.clock.now();
    const counters = await monthUsage(this.db, userId, now);
    const byModel = await this.repo.totals(userId, counters.month);
    const limit = plan.monthlyTokenLimit;
    return {
      month: counters.month,
      plan: { id: plan.id, name: plan.name, monthlyTokenLimit: limit, byokAllowed: plan.byokAllowed, platformKeysAllowed: plan.platformKeysAllowed },
      usedTokens: counters.usedTokens,
      reservedTokens: counters.reservedTokens,
      remainingTokens: limit === null ? null : Math.max(0, limit - counters.usedTokens - counters.reservedTokens),
      costMicroUsd: byModel.reduce((sum, m) => sum + (m.costMicroUsd ?? 0), 0),
      byModel,
    };
  }
}
