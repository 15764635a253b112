import OpenAI from 'openai';
import type { Logger } from '../../core/logger.js';
import { collectListed } from './model-lists.js';
import { chatCompletionAdapter, type ChatCompletionChunkLike } from './openai-wire.js';
import type { ProviderId } from './port.js';
import type { ProviderAdapter } from './resilient-model.js';

export interface SdkClientOptions {
  apiKey: string;
  baseUrl: string;
  /** The SDK's request timeout: a backstop only, later than the inactivity timeout that decides. */
  timeoutMs: number;
  logger?: Logger | undefined;
  /** Set for a key's own base URL (base-url-guard.ts); absent: the SDK's default, Node's global fetch. */
  fetch?: typeof globalThis.fetch | undefined;
}

/**
 * The constructor options every SDK (openai, @anthropic-ai/sdk, groq-sdk) takes alike. The base
 * URL is always explicit, so the SDKs' own environment variables (OPENAI_BASE_URL,
 * ANTHROPIC_BASE_URL, GROQ_BASE_URL) are never read; our retry policy is the only one
 * (resilient-model.ts), so it is predictable and testable.
 */
export function commonSdkOptions(options: SdkClientOptions) {
  return {
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    maxRetries: 0,
    timeout: options.timeoutMs,
    ...(options.logger ? { logger: options.logger } : { logLevel: 'off' as const }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
}

type OpenAiFamily = Extract<ProviderId, 'openai' | 'openrouter' | 'openai-compatible'>;

/** openai, openrouter and openai-compatible servers (Ollama, LM Studio, vLLM, llama.cpp) through the `openai` SDK. */
export function openAiAdapter(provider: OpenAiFamily, options: SdkClientOptions): ProviderAdapter {
  const client = new OpenAI({
    ...commonSdkOptions(options),
    // Local servers (Ollama, llama.cpp) take no key, but the SDK insists on one.
    apiKey: options.apiKey || 'unused',
    // Explicit, so OPENAI_ORG_ID / OPENAI_PROJECT_ID in the environment are never read.
    organization: null,
    project: null,
    ...(provider === 'openrouter' ? { defaultHeaders: { 'X-Title': 'Samokoder' } } : {}),
  });
  return chatCompletionAdapter(
    provider,
    provider === 'openai' ? 'max_completion_tokens' : 'max_tokens',
    async (body, signal) => {
      const { data, response } = await client.chat.completions.create(body, { signal }).withResponse();
      return { data: data as AsyncIterable<ChatCompletionChunkLike>, response };
    },
    // The page iterates every page; entries keep the wire's extra fields (OpenRouter's limits).
    (signal) => collectListed(client.models.list({ signal })),
  );
}
