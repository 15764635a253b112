import { performance } from 'node:perf_hooks';
import type { Logger } from '../../core/logger.js';
import { classifyProviderError, ProviderError } from './provider-errors.js';
import { collectResponse, type FinishReason, type LanguageModel, type ListedModel, type LlmRequest, type LlmResponse, type ProviderId, type StreamPart, type Usage } from './port.js';
import { backoffDelayMs, sleep, type RetryPolicy } from './retry.js';
import { scrubError, type CallSecret } from './scrub-secrets.js';

/** What one HTTP attempt gets from the policy layer. */
export interface AttemptContext {
  /** Ends the HTTP request: the caller cancelled, the call timed out, or the consumer stopped reading. */
  signal: AbortSignal;
  /** Call on every chunk received from the wire (also those that yield no part): resets the inactivity timer. */
  onChunk(): void;
}

/**
 * An adapter is one SDK behind the port, without policy: one attempt, raw SDK errors. `usage`
 * parts are cumulative snapshots (the latest wins); a stream that ends without the protocol's final
 * event must throw (TruncatedStreamError) rather than end quietly.
 */
export interface ProviderAdapter {
  readonly provider: ProviderId;
  attempt(request: LlmRequest, ctx: AttemptContext): AsyncIterable<StreamPart>;
  /** GET /models through the SDK, every page; raw SDK errors. */
  listModels(signal: AbortSignal): Promise<ListedModel[]>;
}

export interface ResilienceOptions {
  retry: RetryPolicy;
  /** Inactivity timeout: the longest an attempt waits for the first byte or the next chunk. */
  timeoutMs: number;
  logger?: Logger | undefined;
  /** The call's credentials (scrub-secrets.ts): no error leaves the model with any of them in it. */
  secrets?: readonly CallSecret[];
}

/**
 * Wraps an adapter with the call policy every provider shares: typed errors, retries with backoff
 * only while nothing has reached the consumer, an inactivity timeout, cancellation, and usage that
 * is reported once (summed over attempts, as the provider bills each) and attached to errors.
 */
export function withResilience(adapter: ProviderAdapter, options: ResilienceOptions): LanguageModel {
  const { provider } = adapter;
  const secrets = options.secrets ?? [];

  // The one way out for errors, whatever made them (SDK, classification, the stream-broken wrap).
  async function* stream(request: LlmRequest): AsyncGenerator<StreamPart> {
    try {
      yield* attempts(request);
    } catch (err) {
      throw scrubError(err, secrets);
    }
  }

  async function* attempts(request: LlmRequest): AsyncGenerator<StreamPart> {
    let billed: Usage | undefined;
    for (let attempt = 1; ; attempt++) {
      const controller = new AbortController();
      const onCallerAbort = (): void => controller.abort(request.signal?.reason);
      if (request.signal?.aborted) onCallerAbort();
      request.signal?.addEventListener('abort', onCallerAbort, { once: true });
      let timedOut = false;
      // One timer that re-arms itself for what is left, rather than a new timer per chunk: streams
      // deliver hundreds of chunks a second and this is on that hot path.
      let lastChunkAt = performance.now();
      const onChunk = (): void => {
        lastChunkAt = performance.now();
      };
      const check = (): void => {
        const idle = performance.now() - lastChunkAt;
        // Timers run on a whole-millisecond clock and may fire up to 1 ms early by this one.
        if (idle < options.timeoutMs - 1) {
          timer = setTimeout(check, options.timeoutMs - idle);
          return;
        }
        timedOut = true;
        controller.abort(new Error(`no data from ${provider} for ${options.timeoutMs} ms`));
      };
      let timer = setTimeout(check, options.timeoutMs);

      let emitted = false;
      let usage: Usage | undefined;
      let finish: FinishReason = 'other';
      try {
        for await (const part of adapter.attempt(request, { signal: controller.signal, onChunk })) {
          onChunk();
          if (part.type === 'usage') usage = part.usage;
          else if (part.type === 'finish') finish = part.reason;
          else {
            emitted = true;
            yield part;
          }
        }
        billed = addUsage(billed, usage);
        if (billed) yield { type: 'usage', usage: billed };
        yield { type: 'finish', reason: finish };
        return;
      } catch (err) {
        billed = addUsage(billed, usage);
        const error = classifyProviderError(err, { provider, signal: request.signal, timedOut });
        error.usage = billed;
        error.attempts = attempt;
        if (error.code === 'E_CANCELLED') throw error;
        if (emitted) {
          // Replaying would repeat text the consumer already has; the caller decides what to do.
          throw new ProviderError('E_PROVIDER_STREAM_BROKEN', `${provider} stream broke after sending content: ${error.message}`, {
            provider,
            providerStatus: error.providerStatus,
            usage: billed,
            attempts: attempt,
            cause: error,
          });
        }
        const delay = error.isRetryable && attempt <= options.retry.maxRetries
          ? backoffDelayMs(attempt - 1, options.retry, error.retryAfterSeconds)
          : undefined;
        if (delay === undefined) throw error;
        options.logger?.warn({ provider, code: error.code, providerStatus: error.providerStatus, attempt, delayMs: delay }, 'retrying LLM call');
        try {
          await sleep(delay, request.signal);
        } catch (abortReason) {
          throw new ProviderError('E_CANCELLED', `${provider} call cancelled`, { provider, usage: billed, attempts: attempt, cause: abortReason });
        }
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onCallerAbort);
        // Also ends the HTTP request when the consumer stopped reading early.
        controller.abort();
      }
    }
  }

  const complete = (request: LlmRequest): Promise<LlmResponse> => collectResponse(stream(request));

  /**
   * One attempt under the same timeout (here for the whole list, which is small), typed and
   * scrubbed errors. No retries: a key check should answer quickly, and the caller decides.
   */
  async function listModels(signal?: AbortSignal): Promise<ListedModel[]> {
    const controller = new AbortController();
    const onCallerAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) onCallerAbort();
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`no model list from ${provider} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    try {
      return await adapter.listModels(controller.signal);
    } catch (err) {
      throw scrubError(classifyProviderError(err, { provider, signal, timedOut }), secrets);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return { provider, stream, complete, listModels };
}

export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a || !b) return a ?? b;
  const sum: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  if (a.cacheReadTokens !== undefined || b.cacheReadTokens !== undefined) sum.cacheReadTokens = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  if (a.cacheWriteTokens !== undefined || b.cacheWriteTokens !== undefined) sum.cacheWriteTokens = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  if (a.estimated || b.estimated) sum.estimated = true;
  return sum;
}
