import type { EventData } from '../protocol/event-catalogue.js';
import type { Clock } from '../core/clock.js';
import { AppError, notFound } from '../core/errors.js';
import { ApiKeysRepo } from '../db/repos/api-keys.js';
import { openSealed } from '../keys/sealed-secrets.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import type { CallAccess } from '../db/repos/api-keys.js';
import type { KeySource } from '../keys/key-source.js';
import type { LlmSession, SessionModel } from './llm-session.js';
import type { LeaseOutcome, PlatformKeyPool, PlatformLease } from '../keys/platform-pool.js';
import type { Vault } from '../keys/vault.js';
import { createLanguageModel, isProviderError, type LanguageModelOptions } from './providers/index.js';
import type { ModelCatalogue } from './model-catalogue.js';
import { collectResponse, ResponseCollector, type ListedModel, type LlmRequest, type LlmResponse, type ProviderCredentials, type ProviderId, type StreamPart, type Usage } from './providers/port.js';
import { withinOutputLimit } from './providers/model-limits.js';
import { addUsage } from './providers/resilient-model.js';
import { estimateWorstCaseTokens } from '../usage/estimate.js';
import { estimateUsage } from '../usage/estimated-usage.js';
import type { Reservation, UsageLedger } from '../usage/usage-ledger.js';
import type { RunTotals, RunTotalsField } from '../db/repos/usage-ledger-repo.js';

/** Who a call is for and which credentials pay for it. */
export interface LlmCallContext {
  userId: string;
  projectId?: string | undefined;
  runId?: string | undefined;
  stepId?: string | undefined;
  provider: ProviderId;
  keySource: KeySource;
  /** BYOK: the stored key's id (must belong to userId); absent: the user's newest key for `provider`. */
  keyId?: string | undefined;
  /** Reuse across the calls of one run (opened key, SDK client); absent: nothing is reused. */
  session?: LlmSession | undefined;
  /**
   * Records the call on its run (runId and projectId), in the statement that settles it on the
   * ledger — also when the call failed — so it commits together with the settlement or not at all:
   * the run's token totals are set from its settled ledger rows, and a completed call appends the
   * durable event `usageEvent` returns (with `runTokens` and `runCostMicroUsd`, the run's new
   * totals, added to its data); `onRunTotals` then gets those totals. When it is given and the settlement of a completed call
   * fails, the call throws that error (the caller's own records would otherwise be missing it).
   */
  runRecord?: { usageEvent: (usage: Usage) => { type: 'llm.usage'; data: Omit<EventData<'llm.usage'>, RunTotalsField> }; onRunTotals: (totals: RunTotals) => void } | undefined;
}

export interface LlmGatewayDeps {
  db: Database;
  vault: Vault;
  pool: PlatformKeyPool;
  ledger: UsageLedger;
  clock: Clock;
  logger: Logger;
  /** Base URLs, the base-URL guard's setting, timeout and retry policy passed to every LanguageModel. */
  modelOptions: LanguageModelOptions;
  catalogue: GatewayCatalogue;
}

export interface KeyValidation {
  ok: boolean;
  /** Why not; never any part of the key or the provider's message (which may quote the key). */
  error?: string;
  /** How the key was checked: its provider's model list, or (a server without one) a one-token call. */
  method?: 'list' | 'call';
  /** The models the key may use: the provider's list, or the one the call used. */
  models?: ListedModel[];
}

/** What the gateway reads from the model catalogue (llm/model-catalogue.ts). */
export type GatewayCatalogue = Pick<ModelCatalogue, 'maxOutputTokensOf' | 'cheapest'>;

/** Mutable facts about one gateway call, kept while its attempts run. */
interface CallState {
  /** Billed usage summed over every attempt (each failed-over attempt is billed by its provider). */
  usage: Usage | undefined;
  /** A text delta or tool call reached the consumer: no failover after that. */
  emitted: boolean;
  keyRef: string | null;
  /** The stream ended normally (not by an error, nor by the consumer stopping early). */
  completed: boolean;
}

/**
 * What the agent pipeline calls to talk to a model. One call: check the plan, reserve the call's
 * worst case against the monthly limit (E_LIMIT, and nothing is sent, when it does not fit),
 * resolve credentials (decrypt the user's BYOK key — once per run with a session —, or lease a
 * platform key), stream through the provider adapter, and settle the ledger to the provider's
 * reported usage in one statement with the run's records (runRecord), also when the call fails or
 * the consumer stops early. The plan and key checks are part of the reservation's statement, so a
 * call costs two statements on the database. Platform calls fail over to the next key
 * on a retryable or auth error as long as nothing has been emitted.
 */
export class LlmGateway {
  constructor(private readonly deps: LlmGatewayDeps) {}

  /** The model's output-token ceiling in the catalogue (undefined: not known, not capped). */
  maxOutputTokensOf(provider: ProviderId, model: string): number | undefined {
    return this.deps.catalogue.maxOutputTokensOf(provider, model);
  }

  async *stream(asked: LlmRequest, ctx: LlmCallContext): AsyncGenerator<StreamPart> {
    // Never more output than the model can give: the provider would refuse the call, and the
    // reservation below would hold tokens no answer can use.
    const request = withinOutputLimit(this.deps.catalogue, ctx.provider, asked);
    const { admitted: byok, reservation } = await this.deps.ledger.reserveForCall(
      {
        userId: ctx.userId,
        provider: ctx.provider,
        model: request.model,
        keySource: ctx.keySource,
        tokens: estimateWorstCaseTokens(request),
        projectId: ctx.projectId,
        runId: ctx.runId,
        stepId: ctx.stepId,
      },
      { keyId: ctx.keyId, platformKeyConfigured: this.deps.pool.has(ctx.provider) },
      (access) => {
        if (ctx.keySource === 'byok') return this.openUserKey(access, ctx);
        this.checkPlatformAllowed(access.plan, ctx.provider);
        return undefined;
      },
    );
    const state: CallState = { usage: undefined, emitted: false, keyRef: byok?.keyRef ?? null, completed: false };
    try {
      if (byok) yield* this.attempt(byok.model, request, state);
      else yield* this.streamOnPlatformKeys(request, ctx, state);
      state.completed = true;
    } finally {
      await this.settle(reservation, state, ctx, byok?.keyRef);
    }
  }

  complete(request: LlmRequest, ctx: LlmCallContext): Promise<LlmResponse> {
    return collectResponse(this.stream(request, ctx));
  }

  /**
   * Checks a key that is not stored yet: its provider's model list (GET /models, which every
   * provider we speak to serves, and most OpenAI-compatible servers), which also says what the
   * key may use. Only a server without a list (404) gets one cheap call instead (one output
   * token) with `model`, else the catalogue's cheapest for the provider. Not on the ledger: it is
   * the user's own key and at most a single token.
   */
  async validateKey(credentials: ProviderCredentials, model: string | undefined): Promise<KeyValidation> {
    const lm = createLanguageModel(credentials, { ...this.deps.modelOptions, maxRetries: 0 });
    try {
      return { ok: true, method: 'list', models: await lm.listModels() };
    } catch (err) {
      if (!isProviderError(err) || err.providerStatus !== 404) return failedValidation(err);
    }
    const m = model ?? this.deps.catalogue.cheapest(credentials.provider);
    if (!m) {
      throw new AppError('E_VALIDATION', `validateModel: this ${credentials.provider} server has no model list (GET /models answered 404); name a model it serves to check the key with. Nothing was stored.`);
    }
    try {
      await lm.complete({ model: m, system: 'Reply with one word.', messages: [{ role: 'user', content: 'ping' }], maxOutputTokens: 1 });
      return { ok: true, method: 'call', models: [{ id: m }] };
    } catch (err) {
      if (isProviderError(err) && err.providerStatus === 404) {
        return { ok: false, error: `the server answered 404 to both GET /models and a call to ${m}: check the base URL (an OpenAI-style API root such as http://localhost:11434/v1) and the model name` };
      }
      return failedValidation(err);
    }
  }

  /**
   * What a stored key may use now, from its provider's list (a key stored without the check, or a
   * list to bring up to date). Throws the provider's typed error (a 404: the server has no list).
   */
  async listKeyModels(userId: string, keyId: string): Promise<{ provider: ProviderId; models: ListedModel[] }> {
    const row = await new ApiKeysRepo(this.deps.db).getWithEnvelope(userId, keyId);
    if (!row) throw notFound('API key');
    const provider = row.provider as ProviderId;
    const apiKey = openSealed(this.deps.vault, { userId, provider: row.provider }, row);
    const lm = createLanguageModel({ provider, apiKey, ...(row.baseUrl ? { baseUrl: row.baseUrl } : {}) }, { ...this.deps.modelOptions, maxRetries: 0 });
    return { provider, models: await lm.listModels() };
  }

  /** The provider's list as the operator's account sees it, with a platform key (what catalogue retirement follows). */
  async listPlatformModels(provider: ProviderId): Promise<ListedModel[]> {
    const lease = await this.deps.pool.lease(provider);
    let outcome: LeaseOutcome = { ok: false, code: 'E_INTERNAL' };
    try {
      const lm = createLanguageModel({ provider, apiKey: lease.apiKey }, { ...this.deps.modelOptions, maxRetries: 0, logger: this.deps.logger });
      const models = await lm.listModels();
      outcome = { ok: true };
      return models;
    } catch (err) {
      if (isProviderError(err)) outcome = { ok: false, code: err.code, providerStatus: err.providerStatus, retryAfterSeconds: err.retryAfterSeconds, cancelled: false };
      throw err;
    } finally {
      await lease.release(outcome);
    }
  }

  private async *streamOnPlatformKeys(request: LlmRequest, ctx: LlmCallContext, state: CallState): AsyncGenerator<StreamPart> {
    const { provider } = ctx;
    const tried = new Set<string>();
    let lastError: unknown;
    for (;;) {
      let lease: PlatformLease;
      try {
        lease = await this.deps.pool.lease(provider, tried);
      } catch (err) {
        // Every key failed for this call: the provider's error says more than "no key left".
        throw lastError ?? err;
      }
      tried.add(lease.keyId);
      state.keyRef = lease.keyId;
      // With another key to fail over to, the pool's failover replaces the adapter's retries on
      // the same (rate-limited) key.
      const options = { ...this.deps.modelOptions, ...(this.deps.pool.size(provider) > tried.size ? { maxRetries: 0 } : {}) };
      const model = this.model(ctx.session, `platform:${lease.keyId}:${options.maxRetries ?? ''}`, () => ({ provider, apiKey: lease.apiKey }), options);
      // Stays "cancelled" when the consumer stops reading early (the generator is returned, no catch runs).
      let outcome: LeaseOutcome = { ok: false, code: 'E_CANCELLED', cancelled: true };
      try {
        yield* this.attempt(model, request, state);
        outcome = { ok: true };
        return;
      } catch (err) {
        outcome = isProviderError(err)
          ? { ok: false, code: err.code, providerStatus: err.providerStatus, retryAfterSeconds: err.retryAfterSeconds, cancelled: err.code === 'E_CANCELLED' }
          : { ok: false, code: 'E_INTERNAL' };
        // Another platform key may belong to an account that still has credits.
        const failover = isProviderError(err) && !state.emitted && (err.isRetryable || err.code === 'E_PROVIDER_AUTH' || err.code === 'E_PROVIDER_QUOTA');
        if (!failover) throw err;
        this.deps.logger.warn({ provider, keyId: lease.keyId, code: err.code, providerStatus: err.providerStatus }, 'platform key failed; failing over to the next key');
        lastError = err;
      } finally {
        await lease.release(outcome);
      }
    }
  }

  /** The session's model for `cacheKey`, or a new one (no session: a new one per call). */
  private model(session: LlmSession | undefined, cacheKey: string, credentials: () => ProviderCredentials, options: LanguageModelOptions): SessionModel {
    const build = (): SessionModel => {
      const c = credentials();
      return { credentials: c, model: createLanguageModel(c, { ...options, logger: this.deps.logger }) };
    };
    return session ? session.model(cacheKey, build) : build();
  }

  /**
   * One attempt with one set of credentials; records usage and emission into `state`. An answer
   * that ends without any usage reported is billed at its estimate (estimated-usage.ts).
   */
  private async *attempt({ model }: SessionModel, request: LlmRequest, state: CallState): AsyncGenerator<StreamPart> {
    const before = state.usage;
    let reported = false;
    const answer = new ResponseCollector();
    try {
      for await (const part of model.stream(request)) {
        if (part.type === 'usage') {
          reported = true;
          state.usage = addUsage(before, part.usage);
          yield { type: 'usage', usage: state.usage! };
          continue;
        }
        if (part.type === 'finish' && !reported) {
          state.usage = addUsage(before, await estimateUsage(request, answer.response()));
          yield { type: 'usage', usage: state.usage! };
        }
        answer.push(part);
        if (part.type !== 'finish') state.emitted = true;
        yield part;
      }
    } catch (err) {
      if (isProviderError(err) && err.usage) state.usage = addUsage(before, err.usage);
      throw err;
    }
  }

  /**
   * One statement (UsageLedgerRepo.settle): the ledger row and the month's counter, the BYOK key's
   * last use (a completed call; at most once a minute, like a session's), and the run's records.
   */
  private async settle(reservation: Reservation, state: CallState, ctx: LlmCallContext, byokKeyRef: string | undefined): Promise<void> {
    const record = ctx.runRecord && ctx.runId ? ctx.runRecord : undefined;
    const usage = state.usage ?? { inputTokens: 0, outputTokens: 0 };
    try {
      const runTotals = await this.deps.ledger.settle(reservation, state.usage, state.keyRef, {
        touchKey: byokKeyRef !== undefined && state.completed ? { id: byokKeyRef, at: this.deps.clock.now() } : undefined,
        runId: record && ctx.runId,
        usageEvent: record && ctx.runId && ctx.projectId && state.completed ? { projectId: ctx.projectId, runId: ctx.runId, ...record.usageEvent(usage) } : undefined,
      });
      if (record && runTotals !== undefined) record.onRunTotals(runTotals);
    } catch (err) {
      // The reservation stays held until expireStale releases it. A failed call's own error is what
      // the caller needs, so this failure is logged, not thrown over it; a completed call whose
      // caller records its usage on the run must not go on as if those records existed.
      this.deps.logger.error({ err, ledgerId: reservation.ledgerId }, 'could not settle an LLM call on the usage ledger');
      if (state.completed && record) throw err;
    }
  }

  private checkPlatformAllowed(plan: CallAccess['plan'], provider: ProviderId): void {
    if (!plan.platformKeysAllowed) {
      throw new AppError('E_LIMIT', `limit_exceeded: the ${plan.name} plan does not include platform keys; add your own ${provider} key (BYOK) or upgrade.`, {
        details: { limit: 'platform_keys' },
      });
    }
    if (!this.deps.pool.has(provider)) {
      throw new AppError('E_NO_PLATFORM_KEY', `No platform key is configured for ${provider}. Use your own ${provider} key (BYOK).`, { retryable: false });
    }
  }

  /**
   * The user's key as a model: decrypted for this call, or once per run with a session (the
   * plaintext then lives in the session's memory for the run). The key row is read on every call,
   * so a deleted key is refused at once either way.
   */
  private openUserKey({ plan, key: row }: CallAccess, ctx: LlmCallContext): { model: SessionModel; keyRef: string } {
    if (!plan.byokAllowed) {
      throw new AppError('E_LIMIT', `limit_exceeded: the ${plan.name} plan does not allow your own API keys.`, { details: { limit: 'byok' } });
    }
    if (!row) {
      throw new AppError('E_NOT_FOUND', ctx.keyId ? 'API key not found' : `No ${ctx.provider} API key stored. Add one with POST /api/user/api-keys.`);
    }
    if (row.provider !== ctx.provider) {
      throw new AppError('E_VALIDATION', `keyId: the key ${row.id} is a ${row.provider} key, not ${ctx.provider}`);
    }
    const credentials = (): ProviderCredentials => {
      const apiKey = openSealed(this.deps.vault, { userId: ctx.userId, provider: row.provider }, row);
      return { provider: ctx.provider, apiKey, ...(row.baseUrl ? { baseUrl: row.baseUrl } : {}) };
    };
    return { model: this.model(ctx.session, `byok:${row.id}`, credentials, this.deps.modelOptions), keyRef: row.id };
  }
}

/** A key check's failure, said without the provider's own message (it may quote the key). */
function failedValidation(err: unknown): KeyValidation {
  // A base URL the address guard refused says itself what to fix (E_BASE_URL_TARGET, 400).
  if (!isProviderError(err) || err.code === 'E_BASE_URL_TARGET') throw err;
  const status = err.providerStatus ? ` (HTTP ${err.providerStatus})` : '';
  const why = err.code === 'E_PROVIDER_AUTH' ? 'the provider rejected the key' : 'the provider could not be reached or refused the check';
  return { ok: false, error: `${why}${status}; code ${err.code}` };
}
