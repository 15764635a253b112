import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Database } from '../db/port.js';
import type { KeySource } from '../keys/key-source.js';
import type { CallAccess } from '../db/repos/api-keys.js';
import { PlansRepo, type Plan } from '../db/repos/plans.js';
import { monthOf, monthUsage } from '../db/repos/usage-summary.js';
import { UsageLedgerRepo, type CallGate, type MonthState, type RunTotals, type SettleAlso, type UsageTotalsRow } from '../db/repos/usage-ledger-repo.js';
import { UsersRepo } from '../db/repos/users.js';
import type { Usage } from '../llm/providers/port.js';
import { costMicroUsd, type PriceSource } from './cost.js';

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
  plan: {
    id: string;
    name: string;
    monthlyTokenLimit: number | null;
    monthlySandboxSeconds: number | null;
    maxRunSeconds: number | null;
    byokAllowed: boolean;
    platformKeysAllowed: boolean;
  };
  /** Counted against the limit: settled input + output tokens. */
  usedTokens: number;
  /** Held by calls in flight. */
  reservedTokens: number;
  /** limit − used − reserved (never below 0); null when the plan is unlimited. */
  remainingTokens: number | null;
  costMicroUsd: number;
  /** Calls this month billed at an estimate because their provider reported no usage. */
  estimatedCalls: number;
  byModel: UsageTotalsRow[];
  /** Wall-clock seconds of sandbox commands this month (millisecond precision). */
  sandboxSeconds: number;
  /** monthlySandboxSeconds − sandboxSeconds (never below 0); null when the plan is unlimited. */
  remainingSandboxSeconds: number | null;
}

/** Tokens a call counts against the monthly limit: input (cached prompt tokens included, as the port defines it) + output. */
export const countedTokens = (u: Usage): number => u.inputTokens + u.outputTokens;

/** The plan's monthly token limit, enforced with reservations (see UsageLedgerRepo.reserve). */
export class UsageLedger {
  private readonly repo: UsageLedgerRepo;

  constructor(
    private readonly db: Database,
    private readonly prices: PriceSource,
    private readonly clock: Clock,
  ) {
    this.repo = new UsageLedgerRepo(db);
  }

  /** Reserves the call's worst case, or throws E_LIMIT (limit_exceeded) without reserving anything. */
  async reserve(r: ReserveRequest): Promise<Reservation> {
    const month = monthOf(this.clock.now());
    const { ledgerId } = await this.repo.reserve({ ...r, month });
    if (ledgerId === undefined) throw limitExceeded(r.tokens, await this.repo.monthState(r.userId, month));
    return { ledgerId, userId: r.userId, provider: r.provider, model: r.model, tokens: r.tokens };
  }

  /**
   * A model call's reservation, in one statement with the checks of `gate` (see CallGate): `admit`
   * gets what the statement read and throws when the call may not run (its own error codes and
   * messages), or returns what the caller needs from it; otherwise a call that did not fit throws
   * E_LIMIT. Nothing stays reserved when this throws.
   */
  async reserveForCall<T>(r: Omit<ReserveRequest, 'keyRef'>, gate: CallGate, admit: (access: CallAccess) => T): Promise<{ admitted: T; reservation: Reservation }> {
    const month = monthOf(this.clock.now());
    const { access, ledgerId } = await this.repo.reserve({ ...r, keyRef: null, month }, gate);
    if (!access) throw new AppError('E_NOT_FOUND', 'User or plan not found');
    const reservation = ledgerId === undefined ? undefined : { ledgerId, userId: r.userId, provider: r.provider, model: r.model, tokens: r.tokens };
    let admitted: T;
    try {
      admitted = admit(access);
    } catch (err) {
      // The gate and `admit` check the same things, but `admit` may also fail on its own (a key
      // that does not decrypt): the reservation is released at once, not left to expireStale.
      if (reservation) await this.settle(reservation, undefined);
      throw err;
    }
    if (!reservation) throw limitExceeded(r.tokens, await this.repo.monthState(r.userId, month));
    return { admitted, reservation };
  }

  /**
   * Settles to what the provider reported (nothing reported: zero) and releases the rest, with the
   * writes of `also` in the same statement (see UsageLedgerRepo.settle).
   * @returns the run's new totals when `also.runId` is given.
   */
  async settle(reservation: Reservation, usage: Usage | undefined, keyRef?: string | null, also?: SettleAlso): Promise<RunTotals | undefined> {
    const u = usage ?? { inputTokens: 0, outputTokens: 0 };
    const res = await this.repo.settle(
      reservation.userId,
      reservation.ledgerId,
      {
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        cacheReadTokens: u.cacheReadTokens ?? 0,
        cacheWriteTokens: u.cacheWriteTokens ?? 0,
        costMicroUsd: costMicroUsd(this.prices.price(reservation.provider, reservation.model), u),
        usedTokens: countedTokens(u),
        estimated: u.estimated === true,
        keyRef,
      },
      also,
    );
    return res.runTotals;
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
      plan: {
        id: plan.id,
        name: plan.name,
        monthlyTokenLimit: limit,
        monthlySandboxSeconds: plan.monthlySandboxSeconds,
        maxRunSeconds: plan.maxRunSeconds,
        byokAllowed: plan.byokAllowed,
        platformKeysAllowed: plan.platformKeysAllowed,
      },
      usedTokens: counters.usedTokens,
      reservedTokens: counters.reservedTokens,
      remainingTokens: limit === null ? null : Math.max(0, limit - counters.usedTokens - counters.reservedTokens),
      costMicroUsd: byModel.reduce((sum, m) => sum + (m.costMicroUsd ?? 0), 0),
      estimatedCalls: byModel.reduce((sum, m) => sum + m.estimatedCalls, 0),
      byModel,
      sandboxSeconds: counters.sandboxSeconds,
      remainingSandboxSeconds: plan.monthlySandboxSeconds === null ? null : Math.max(0, plan.monthlySandboxSeconds - counters.sandboxSeconds),
    };
  }
}

function limitExceeded(tokens: number, m: MonthState): AppError {
  return new AppError(
    'E_LIMIT',
    `limit_exceeded: this call needs up to ${tokens} tokens but the plan's monthly token limit of ${m.limit} leaves ` +
      `${Math.max(0, m.limit - m.usedTokens - m.reservedTokens)} this month (${m.usedTokens} used, ${m.reservedTokens} reserved by calls in flight).`,
    { details: { limit: 'monthly_tokens', monthlyTokenLimit: m.limit, usedTokens: m.usedTokens, reservedTokens: m.reservedTokens, requestedTokens: tokens } },
  );
}
