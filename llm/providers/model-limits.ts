import type { LlmRequest, ProviderId } from './port.js';

/**
 * The most output tokens each known model may be asked for (its `max_tokens` ceiling): a request
 * above it is refused by the provider (400), so requests are capped to it. Keys are model-id
 * prefixes, normalised like ids are (see normalise); the longest matching prefix wins. A model
 * not listed is not capped. One function reads this (maxOutputTokensOf), so a model catalogue can
 * replace the table without touching its callers.
 */
const MAX_OUTPUT_TOKENS: Readonly<Record<string, number>> = {
  'claude-3-haiku': 4096,
  'claude-3-opus': 4096,
  'claude-3-sonnet': 4096,
  'claude-3-5-haiku': 8192,
  'claude-3-5-sonnet': 8192,
  'claude-3-7-sonnet': 64_000,
  'claude-sonnet-4': 64_000,
  'claude-haiku-4': 64_000,
  'claude-opus-4': 32_000,
  'claude-opus-4-5': 64_000,
  'gpt-3-5-turbo': 4096,
  'gpt-4-turbo': 4096,
  'gpt-4o': 16_384,
  'gpt-4-1': 32_768,
  'gpt-5': 128_000,
  'o1': 100_000,
  'o3': 100_000,
  'o4-mini': 100_000,
  'deepseek-chat': 8192,
  'deepseek-reasoner': 64_000,
  'llama-3-1-8b-instant': 131_072,
  'llama-3-3-70b-versatile': 32_768,
};

/** `anthropic/claude-3.5-sonnet` (OpenRouter) and `claude-3-5-sonnet-20241022` name one family. */
function normalise(model: string): string {
  return model.toLowerCase().replace(/^.*\//, '').replaceAll('.', '-');
}

/** The model's output-token ceiling, or undefined when it is not known. */
export function maxOutputTokensOf(_provider: ProviderId, model: string): number | undefined {
  const id = normalise(model);
  let best: string | undefined;
  for (const prefix of Object.keys(MAX_OUTPUT_TOKENS)) {
    if ((id === prefix || id.startsWith(`${prefix}-`)) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : MAX_OUTPUT_TOKENS[best];
}

/** The request with maxOutputTokens no higher than the model allows. */
export function withinOutputLimit<R extends Pick<LlmRequest, 'model' | 'maxOutputTokens'>>(provider: ProviderId, request: R): R {
  const limit = maxOutputTokensOf(provider, request.model);
  return limit !== undefined && request.maxOutputTokens > limit ? { ...request, maxOutputTokens: limit } : request;
}
