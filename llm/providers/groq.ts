import Groq from 'groq-sdk';
import { chatCompletionAdapter, type ChatCompletionChunkLike } from './openai-wire.js';
import type { SdkClientOptions } from './openai.js';
import type { ProviderAdapter } from './resilient-model.js';

/** Groq through `groq-sdk`; its wire format is chat completions under /openai/v1, so the mapping is shared. */
export function groqAdapter(options: SdkClientOptions): ProviderAdapter {
  const client = new Groq({
    apiKey: options.apiKey,
    // Explicit, so GROQ_BASE_URL in the environment is never read.
    baseURL: options.baseUrl,
    // Our retry policy is the only one (resilient-model.ts).
    maxRetries: 0,
    timeout: options.timeoutMs,
    ...(options.logger ? { logger: options.logger } : { logLevel: 'off' as const }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return chatCompletionAdapter('groq', 'max_tokens', async (body, signal) => {
    const stream = await client.chat.completions.create(body, { signal });
    return stream as AsyncIterable<ChatCompletionChunkLike>;
  });
}
