import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Queryable } from '../db/port.js';
import { PlatformKeysRepo, type PlatformKeyRow } from '../db/repos/platform-keys.js';
import { maskSecret } from './mask.js';

/** Failures at or above this many seconds of Retry-After still cool a key for at least this long. */
const DEFAULT_COOLDOWN_SECONDS = 30;
/** A key whose account ran out of credits rests this long: a top-up takes a person, not a moment. */
const QUOTA_COOLDOWN_SECONDS = 600;
/** How stale this node's view of other nodes' cooldowns and disablements may get. */
const REFRESH_MS = 2_000;

export interface PlatformKeyState extends PlatformKeyRow {
  /** Calls this node has in flight on the key. */
  inFlight: number;
  status: 'active' | 'cooling_down' | 'disabled';
}

/** How a leased call ended, as the pool needs to know it. */
export type LeaseOutcome =
  | { ok: true }
  | { ok: false; cancelled?: boolean; providerStatus?: number | undefined; retryAfterSeconds?: number | undefined; code: string };

export interface PlatformLease {
  /** The key's fingerprint (stored as the ledger's key_ref). */
  keyId: string;
  provider: string;
  /** Plaintext, in memory for this call only. */
  apiKey: string;
  /** Returns the key to the pool and records the call's outcome; call exactly once. */
  release(outcome: LeaseOutcome): Promise<void>;
}

interface Entry {
  id: string;
  provider: string;
  apiKey: string;
  masked: string;
  inFlight: number;
  cooldownUntil: Date | null;
  disabled: boolean;
}

/** A key's identity without the key: a SHA-256 prefix (the keys are long random secrets). */
export const fingerprint = (provider: string, apiKey: string): string =>
  'pk_' + createHash('sha256').update(`${provider}\n${apiKey}`).digest('hex').slice(0, 16);

/**
 * The operator's keys for managed credits (SAMOKODER_PLATFORM_KEYS_<PROVIDER>). A call leases
 * the usable key with the fewest calls in flight on this node, ties broken round-robin; a 429
 * cools the key down for its Retry-After (a 402 or insufficient_quota for QUOTA_COOLDOWN_SECONDS),
 * a 401/403 disables it with the reason. Counters,
 * cooldowns and disablements live in the database, so they survive restarts and every node
 * sees them (within REFRESH_MS).
 */
export class PlatformKeyPool {
  private readonly cursor = new Map<string, number>();
  private refreshedAt = 0;

  private constructor(
    private readonly db: Queryable,
    private readonly entries: Map<string, Entry[]>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  static async open(db: Queryable, keys: Readonly<Record<string, readonly string[]>>, clock: Clock, logger: Logger): Promise<PlatformKeyPool> {
    const entries = new Map<string, Entry[]>();
    const all: { id: string; provider: string; masked: string }[] = [];
    for (const [provider, list] of Object.entries(keys)) {
      const forProvider = list.map((apiKey) => ({
        id: fingerprint(provider, apiKey),
        provider,
        apiKey,
        masked: maskSecret(apiKey),
        inFlight: 0,
        cooldownUntil: null,
        disabled: false,
      }));
      if (forProvider.length > 0) entries.set(provider, forProvider);
      all.push(...forProvider.map(({ id, masked }) => ({ id, provider, masked })));
    }
    const pool = new PlatformKeyPool(db, entries, clock, logger);
    pool.apply(await new PlatformKeysRepo(db).upsert(all));
    pool.refreshedAt = clock.now().getTime();
    return pool;
  }

  has(provider: string): boolean {
    return this.size(provider) > 0;
  }

  /** Keys configured for `provider` (usable or not). */
  size(provider: string): number {
    return this.entries.get(provider)?.length ?? 0;
  }

  /**
   * Leases a usable key of `provider` other than those in `exclude` (keys this call already
   * tried). Throws E_NO_PLATFORM_KEY when none is usable, with the soonest cooldown's end.
   */
  async lease(provider: string, exclude: ReadonlySet<string> = new Set()): Promise<PlatformLease> {
    const list = this.entries.get(provider) ?? [];
    if (list.length === 0) throw new AppError('E_NO_PLATFORM_KEY', `No platform key is configured for ${provider}. Use your own ${provider} key (BYOK).`, { retryable: false });
    await this.refreshIfStale();
    const now = this.clock.now().getTime();
    const usable = list.filter((e) => !e.disabled && !exclude.has(e.id) && (e.cooldownUntil === null || e.cooldownUntil.getTime() <= now));
    if (usable.length === 0) {
      const cooling = list.filter((e) => !e.disabled && e.cooldownUntil !== null && e.cooldownUntil.getTime() > now);
      const soonest = Math.min(...cooling.map((e) => e.cooldownUntil!.getTime()));
      const retryAfterSeconds = cooling.length > 0 ? Math.max(1, Math.ceil((soonest - now) / 1000)) : undefined;
      throw new AppError(
        'E_NO_PLATFORM_KEY',
        `No platform key for ${provider} is usable right now (${list.length} configured: ${cooling.length} cooling down after rate limits, ${list.filter((e) => e.disabled).length} disabled, ${exclude.size} already failed for this call).`,
        { retryable: retryAfterSeconds !== undefined, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) },
      );
    }
    const least = Math.min(...usable.map((e) => e.inFlight));
    const start = this.cursor.get(provider) ?? 0;
    // Among the least loaded, the first at or after the round-robin cursor.
    const chosen = usable
      .filter((e) => e.inFlight === least)
      .map((e) => ({ e, order: (list.indexOf(e) - start + list.length) % list.length }))
      .sort((a, b) => a.order - b.order)[0]!.e;
    this.cursor.set(provider, (list.indexOf(chosen) + 1) % list.length);
    chosen.inFlight++;
    let released = false;
    return {
      keyId: chosen.id,
      provider,
      apiKey: chosen.apiKey,
      release: async (outcome) => {
        if (released) return;
        released = true;
        chosen.inFlight--;
        await this.record(chosen, outcome);
      },
    };
  }

  /** Every configured key's state, masked (for GET /api/admin/platform-keys). */
  async state(): Promise<PlatformKeyState[]> {
    const all = [...this.entries.values()].flat();
    const rows = await new PlatformKeysRepo(this.db).get(all.map((e) => e.id));
    this.apply(rows);
    const now = this.clock.now().getTime();
    return rows.map((r) => ({
      ...r,
      inFlight: all.find((e) => e.id === r.id)?.inFlight ?? 0,
      status: r.disabledAt ? 'disabled' : r.cooldownUntil && r.cooldownUntil.getTime() > now ? 'cooling_down' : 'active',
    }));
  }

  private async record(entry: Entry, outcome: LeaseOutcome): Promise<void> {
    const update = { error: false } as { error: boolean; lastError?: string; cooldownUntil?: Date; disabledReason?: string };
    if (!outcome.ok && !outcome.cancelled) {
      const status = outcome.providerStatus;
      update.error = true;
      update.lastError = `${outcome.code}${status ? ` (HTTP ${status})` : ''}`;
      if (outcome.code === 'E_PROVIDER_QUOTA' || status === 429 || outcome.code === 'E_PROVIDER_RATE_LIMITED') {
        const seconds = outcome.code === 'E_PROVIDER_QUOTA' ? QUOTA_COOLDOWN_SECONDS : Math.max(outcome.retryAfterSeconds ?? DEFAULT_COOLDOWN_SECONDS, 1);
        update.cooldownUntil = new Date(this.clock.now().getTime() + seconds * 1000);
        entry.cooldownUntil = update.cooldownUntil;
      } else if (status === 401 || status === 403 || outcome.code === 'E_PROVIDER_AUTH') {
        // Only the status: a provider's message may quote part of the key.
        update.disabledReason = `${entry.provider} rejected the key${status ? ` (HTTP ${status})` : ''}; replace it in SAMOKODER_PLATFORM_KEYS_${entry.provider.toUpperCase()}`;
        entry.disabled = true;
        this.logger.warn({ provider: entry.provider, key: entry.masked, keyId: entry.id }, 'platform key disabled: the provider rejected it');
      }
    }
    try {
      await new PlatformKeysRepo(this.db).recordCall(entry.id, update);
    } catch (err) {
      // The call itself is over and its result belongs to the caller; a lost counter update is
      // logged rather than turned into a failure of a call that worked.
      this.logger.error({ err, keyId: entry.id }, 'could not record a platform key call');
    }
  }

  private async refreshIfStale(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.refreshedAt < REFRESH_MS) return;
    this.refreshedAt = now;
    this.apply(await new PlatformKeysRepo(this.db).get([...this.entries.values()].flat().map((e) => e.id)));
  }

  private apply(rows: readonly PlatformKeyRow[]): void {
    for (const r of rows) {
      const e = this.entries.get(r.provider)?.find((x) => x.id === r.id);
      if (!e) continue;
      e.disabled = r.disabledAt !== null;
      e.cooldownUntil = r.cooldownUntil;
    }
  }
}
