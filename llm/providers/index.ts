import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { anthropicAdapter } from './anthropic.js';
import { guardedFetch } from './base-url-guard.js';
import { groqAdapter } from './groq.js';
import { openAiAdapter, type SdkClientOptions } from './openai.js';
import type { LanguageModel, ProviderCredentials, ProviderId } from './port.js';
import { withResilience } from './resilient-model.js';
import { callSecrets } from './scrub-secrets.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';

export * from './port.js';
export { ProviderError, isProviderError, classifyProviderError, retryAfterSeconds, type ProviderErrorCode, type ClassifyContext } from './provider-errors.js';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, type RetryPolicy } from './retry.js';

/** The providers' public endpoints, in the form each SDK expects its baseURL. */
export const DEFAULT_BASE_URLS: Readonly<Record<Exclude<ProviderId, 'openai-compatible'>, string>> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com/v1',
  groq: 'https://api.groq.com',
  openrouter: 'https://openrouter.ai/api/v1',
};

export const DEFAULT_TIMEOUT_MS = 120_000;
/** How much later than our inactivity timeout the SDK's own request timeout is (see createLanguageModel). */
const SDK_TIMEOUT_BACKSTOP_MS = 5_000;

export interface LanguageModelOptions {
  /** Per-provider base URLs (from SAMOKODER_*_BASE_URL); a key's own baseUrl wins over these. */
  baseUrls?: Partial<Record<ProviderId, string>>;
  /** Inactivity timeout per attempt: the longest to wait for the first byte or the next chunk. */
  timeoutMs?: number;
  /** Retries of a retryable failure before any content was streamed. */
  maxRetries?: number;
  /**
   * Whether a key's own base URL may reach loopback and private-network addresses
   * (SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS; default true). Reserved ones (cloud metadata) never may.
   */
  allowPrivateBaseUrls?: boolean;
  /** Backoff tuning; tests shorten it. */
  retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
  logger?: Logger;
}

/** The base URL a call with these credentials goes to; openai-compatible has no default. */
export function resolveBaseUrl(credentials: ProviderCredentials, baseUrls: Partial<Record<ProviderId, string>> = {}): string {
  const url = credentials.baseUrl ?? baseUrls[credentials.provider] ??
    (credentials.provider === 'openai-compatible' ? undefined : DEFAULT_BASE_URLS[credentials.provider]);
  if (!url) throw new AppError('E_VALIDATION', 'openai-compatible keys need a baseUrl (e.g. http://localhost:11434/v1 for Ollama)');
  return url;
}

/** A LanguageModel for one set of credentials: the provider's SDK behind our retry, timeout and error policy. */
export function createLanguageModel(credentials: ProviderCredentials, options: LanguageModelOptions = {}): LanguageModel {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client: SdkClientOptions = {
    apiKey: credentials.apiKey,
    baseUrl: resolveBaseUrl(credentials, options.baseUrls),
    // Our inactivity timer (resilient-model.ts) decides timeouts. The SDK's own timer, on the
    // same value, raced it: whichever fired first chose the error class, and the SDK's becomes a
    // plain connection error where its abort error crosses a realm (Jest's vm). So the SDK only
    // gets a backstop that cannot win.
    timeoutMs: timeoutMs + SDK_TIMEOUT_BACKSTOP_MS,
    logger: options.logger,
    // A key's own base URL is user input: its connections go through the address guard. The
    // operator's endpoints (options.baseUrls, the defaults) keep Node's global fetch.
    ...(credentials.baseUrl !== undefined ? { fetch: guardedFetch(options.allowPrivateBaseUrls ?? true) } : {}),
  };
  const adapter = credentials.provider === 'anthropic' ? anthropicAdapter(client)
    : credentials.provider === 'groq' ? groqAdapter(client)
    : openAiAdapter(credentials.provider, client);
  return withResilience(adapter, {
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry, maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries },
    timeoutMs,
    logger: options.logger,
    secrets: callSecrets(credentials),
  });
}
