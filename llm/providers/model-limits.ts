import type { LlmRequest, ProviderId } from './port.js';

/**
 * Where a model's output limit (its `max_tokens` ceiling) is read: the model catalogue
 * (llm/model-catalogue.ts) is its one source. A request above the limit is refused by the
 * provider (400), so requests are capped to it; a model the catalogue does not know is not capped.
 */
export interface OutputLimits {
  /** The model's output-token ceiling, or undefined when it is not known. */
  maxOutputTokensOf(provider: ProviderId, model: string): number | undefined;
}

/** The request with maxOutputTokens no higher than the model allows. */
export function withinOutputLimit<R extends Pick<LlmRequest, 'model' | 'maxOutputTokens'>>(limits: OutputLimits, provider: ProviderId, request: R): R {
  const limit = limits.maxOutputTokensOf(provider, request.model);
  return limit !== undefined && request.maxOutputTokens > limit ? { ...request, maxOutputTokens: limit } : request;
}
