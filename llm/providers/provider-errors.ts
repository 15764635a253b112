import { AppError, type ErrorCode } from '../../core/errors.js';
import { BaseUrlRefusedError } from './base-url-guard.js';
import type { ProviderId, Usage } from './port.js';

export type ProviderErrorCode =
  | 'E_PROVIDER_AUTH'
  | 'E_PROVIDER_RATE_LIMITED'
  | 'E_PROVIDER_QUOTA'
  | 'E_PROVIDER_UNAVAILABLE'
  | 'E_PROVIDER_BAD_REQUEST'
  | 'E_PROVIDER_STREAM_BROKEN'
  | 'E_PROVIDER_TIMEOUT'
  | 'E_BASE_URL_TARGET'
  | 'E_CANCELLED';

export interface ProviderErrorOptions {
  provider: ProviderId;
  /** The provider's HTTP status, when it answered with one. */
  providerStatus?: number | undefined;
  retryAfterSeconds?: number | undefined;
  /** What the provider reported before the call failed (summed over attempts); the ledger settles it. */
  usage?: Usage | undefined;
  /** HTTP attempts made (1 + retries). */
  attempts?: number;
  cause?: unknown;
}

/** Every error a LanguageModel throws is one of these: typed code, provider status, isRetryable. */
export class ProviderError extends AppError {
  readonly provider: ProviderId;
  readonly providerStatus: number | undefined;
  usage: Usage | undefined;
  attempts: number;

  constructor(code: ProviderErrorCode, message: string, options: ProviderErrorOptions) {
    super(code satisfies ErrorCode, message, {
      cause: options.cause,
      retryAfterSeconds: options.retryAfterSeconds,
      details: {
        provider: options.provider,
        ...(options.providerStatus !== undefined ? { providerStatus: options.providerStatus } : {}),
      },
    });
    this.name = 'ProviderError';
    this.provider = options.provider;
    this.providerStatus = options.providerStatus;
    this.usage = options.usage;
    this.attempts = options.attempts ?? 1;
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** Raised by an adapter when the stream ends without its terminal event (a proxy closed it cleanly). */
export class TruncatedStreamError extends Error {
  constructor(provider: ProviderId) {
    super(`${provider} stream ended before its final event`);
    this.name = 'TruncatedStreamError';
  }
}

/**
 * A 200 whose JSON body is an error (`{"error":{"code":402,"message":"Insufficient credits"}}`), as
 * OpenRouter and other gateways answer even a streaming request. `error` is that object, as the
 * SDKs keep an error event's: classified by its own code.
 */
export class ErrorInOkBody extends Error {
  constructor(readonly error: unknown) {
    const message = (error as { message?: unknown } | null)?.message;
    super(typeof message === 'string' ? message : JSON.stringify(error));
    this.name = 'ErrorInOkBody';
  }
}

/** The shape the three SDKs' (Stainless-generated) APIError classes share; matched structurally. */
interface SdkErrorLike {
  name?: unknown;
  status?: unknown;
  headers?: unknown;
  error?: unknown;
  type?: unknown;
  message?: unknown;
}

export interface ClassifyContext {
  provider: ProviderId;
  /** The caller's signal: aborted means the caller cancelled. */
  signal?: AbortSignal | undefined;
  /** Our inactivity timer fired (it aborts the request the same way a cancel does). */
  timedOut?: boolean;
}

/** Maps anything an SDK (or fetch) throws to a ProviderError. */
export function classifyProviderError(err: unknown, ctx: ClassifyContext): ProviderError {
  if (err instanceof ProviderError) return err;
  const { provider } = ctx;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  // The SDKs' error classes do not set `name`; their constructor names are the stable part.
  const names = [typeof e.name === 'string' ? e.name : '', (err as object | null)?.constructor?.name ?? ''];
  const detail = typeof e.message === 'string' ? e.message : String(err);
  const base = { provider, cause: err };

  if (ctx.signal?.aborted) return new ProviderError('E_CANCELLED', `${provider} call cancelled`, base);
  // The address guard refused the connection (SDK error ← fetch's TypeError ← ours): final, and
  // only our message, which names the host and never the key.
  const refused = causeOfType(err, BaseUrlRefusedError);
  if (refused) return new ProviderError('E_BASE_URL_TARGET', `${provider} ${refused.message}`, { provider, cause: refused });
  if (ctx.timedOut || names.includes('APIConnectionTimeoutError')) {
    return new ProviderError('E_PROVIDER_TIMEOUT', `${provider} sent nothing within the call timeout`, base);
  }
  if (names.includes('APIUserAbortError') || names.includes('AbortError')) {
    // Aborted, but not by the caller's signal nor our timer: treat as a dropped connection.
    return new ProviderError('E_PROVIDER_UNAVAILABLE', `${provider} request aborted: ${detail}`, base);
  }

  // An error inside a 200 (an SSE error event, or a JSON error body) has no HTTP status: its own
  // code stands for one when it is an HTTP status (OpenRouter sends {"code":402,…}).
  const bodyCode = errorBodyCode(e);
  const status = typeof e.status === 'number' ? e.status : typeof bodyCode === 'number' && bodyCode >= 400 && bodyCode < 600 ? bodyCode : undefined;
  const headers = e.headers;
  const withStatus = { ...base, providerStatus: status };
  // Out of credits is final for this key: retrying (even after OpenAI's 429 insufficient_quota) only repeats it.
  if (status === 402 || bodyCode === 'insufficient_quota' || e.type === 'insufficient_quota' || OUT_OF_CREDITS.test(detail)) {
    return new ProviderError('E_PROVIDER_QUOTA', `${provider} refused the call for lack of credits or quota${status ? ` (${status})` : ''}: ${detail}`, withStatus);
  }
  if (status === 401 || status === 403) {
    return new ProviderError('E_PROVIDER_AUTH', `${provider} rejected the API key (${status}): ${detail}`, withStatus);
  }
  if (status === 429) {
    return new ProviderError('E_PROVIDER_RATE_LIMITED', `${provider} is rate limiting this key: ${detail}`, {
      ...withStatus,
      retryAfterSeconds: retryAfterSeconds(headers),
    });
  }
  if (status === 408) return new ProviderError('E_PROVIDER_TIMEOUT', `${provider} timed out (408): ${detail}`, withStatus);
  if (status !== undefined && status >= 500) {
    return new ProviderError('E_PROVIDER_UNAVAILABLE', `${provider} failed (${status}): ${detail}`, {
      ...withStatus,
      retryAfterSeconds: retryAfterSeconds(headers),
    });
  }
  if (status !== undefined && status >= 400) {
    return new ProviderError('E_PROVIDER_BAD_REQUEST', `${provider} refused the request (${status}): ${detail}`, withStatus);
  }

  // No HTTP status: an error event inside an SSE stream, a network failure, or a truncated stream.
  const streamErrorType = sseErrorType(e);
  if (streamErrorType === 'rate_limit_error') {
    return new ProviderError('E_PROVIDER_RATE_LIMITED', `${provider} is rate limiting this key: ${detail}`, base);
  }
  if (streamErrorType === 'authentication_error' || streamErrorType === 'permission_error') {
    return new ProviderError('E_PROVIDER_AUTH', `${provider} rejected the API key: ${detail}`, base);
  }
  if (streamErrorType === 'invalid_request_error' || streamErrorType === 'not_found_error') {
    return new ProviderError('E_PROVIDER_BAD_REQUEST', `${provider} refused the request: ${detail}`, base);
  }
  return new ProviderError('E_PROVIDER_UNAVAILABLE', `${provider} could not be reached or failed: ${detail}`, base);
}

/** The first error of `type` in err's cause chain (a few links deep), or undefined. */
function causeOfType<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++, e = e.cause) {
    if (e instanceof type) return e;
  }
  return undefined;
}

/**
 * How providers word an empty account when they do not say 402: Anthropic answers 400 "Your credit
 * balance is too low to access the Anthropic API"; resellers say "insufficient credits/balance".
 */
const OUT_OF_CREDITS = /credit balance is too low|insufficient[ _](credits?|balance|funds|quota)/i;

/** The `code` of a provider's error object (`{error: {code}}`, as the SDKs keep it on `.error`, or `.code` itself). */
function errorBodyCode(e: SdkErrorLike): number | string | undefined {
  const fromBody = (e.error as { code?: unknown } | undefined)?.code;
  const code = fromBody ?? (e as { code?: unknown }).code;
  if (typeof code === 'number') return code;
  if (typeof code === 'string') return /^\d{3}$/.test(code) ? Number(code) : code;
  return undefined;
}

/** `type` of an error that arrived as an SSE event (Anthropic: {type:'error', error:{type}}; OpenAI: {type}). */
function sseErrorType(e: SdkErrorLike): string | undefined {
  if (typeof e.type === 'string') return e.type;
  const body = e.error as { type?: unknown; error?: { type?: unknown } } | undefined;
  if (typeof body?.error?.type === 'string') return body.error.type;
  if (typeof body?.type === 'string') return body.type;
  return undefined;
}

/** Reads `retry-after-ms` (OpenAI) or `retry-after` (seconds or an HTTP date) from SDK error headers. */
export function retryAfterSeconds(headers: unknown, now: number = Date.now()): number | undefined {
  const get = (name: string): string | null | undefined => {
    if (headers && typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
    if (headers && typeof headers === 'object') return (headers as Record<string, string | undefined>)[name];
    return undefined;
  };
  const ms = Number(get('retry-after-ms'));
  if (get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const value = get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
