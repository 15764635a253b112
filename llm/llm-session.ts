import type { LanguageModel, ProviderCredentials } from './providers/port.js';

/** A LanguageModel with the credentials it was built on (the gateway scrubs the key from errors). */
export interface SessionModel {
  credentials: ProviderCredentials;
  model: LanguageModel;
}

/**
 * What the model calls of one run attempt may reuse: each key's opened credentials and the
 * LanguageModel built on them (its SDK client and HTTP connections), so a run's 20-odd calls
 * decrypt the key and build the client once. A stored key's secret never changes (rotation
 * re-wraps its data key only), so the cache is keyed by the key's id. The plaintext lives only in
 * this object, in memory, for the attempt's lifetime; it is never logged or persisted.
 *
 * What can change during a run is still checked by the gateway on every call: the plan's flags
 * and the key's existence, and the monthly limit (all in the reservation's one statement).
 */
export class LlmSession {
  private readonly models = new Map<string, SessionModel>();

  /** The cached model for `cacheKey`, or the one `build` makes (then cached). */
  model(cacheKey: string, build: () => SessionModel): SessionModel {
    let m = this.models.get(cacheKey);
    if (!m) {
      m = build();
      this.models.set(cacheKey, m);
    }
    return m;
  }
}
