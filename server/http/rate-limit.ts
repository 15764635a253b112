import { ipKeyGenerator } from 'express-rate-limit';
import { AppError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';

/**
 * A fixed-window counter per key (user id, account email, client IP), in this node's memory.
 * express-rate-limit covers the per-IP limit of whole paths; this one is called from handlers,
 * after authentication, where the key (the user) is only known then. Limits are per node: behind
 * a load balancer with N nodes a client may get up to N× the limit, which is acceptable for abuse
 * protection (the plan limits, which are about money, are enforced in the database).
 */
export class WindowLimiter {
  private windows = new Map<string, { start: number; hits: number }>();
  private lastSweep = 0;

  constructor(
    private readonly options: { max: number; windowSeconds: number; clock: Clock; what: string },
  ) {}

  /** Counts one hit for `key`; throws E_RATE_LIMITED (with Retry-After) past the limit. */
  hit(key: string): void {
    const now = this.options.clock.now().getTime();
    const windowMs = this.options.windowSeconds * 1000;
    this.sweep(now, windowMs);
    let w = this.windows.get(key);
    if (!w || now - w.start >= windowMs) {
      w = { start: now, hits: 0 };
      this.windows.set(key, w);
    }
    w.hits++;
    if (w.hits > this.options.max) {
      const retryAfterSeconds = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
      throw new AppError('E_RATE_LIMITED', `Too many ${this.options.what}. Try again in ${retryAfterSeconds} seconds.`, {
        retryAfterSeconds,
        details: { limit: this.options.max, windowSeconds: this.options.windowSeconds },
      });
    }
  }

  /** Drops expired windows at most once per window, so memory stays bounded by the active keys. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep < windowMs) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (now - w.start >= windowMs) this.windows.delete(k);
  }
}

/** The rate-limit key of a client address: IPv6 clients are grouped by /56, as express-rate-limit does. */
export const ipKey = (ip: string | undefined): string => ipKeyGenerator(ip ?? 'unknown');
