import Groq from 'groq-sdk';
import { collectListed } from './model-lists.js';
import { chatCompletionAdapter, type ChatCompletionChunkLike } from './openai-wire.js';
import { commonSdkOptions, type SdkClientOptions } from './openai.js';
import type { ProviderAdapter } from './resilient-model.js';

/** Groq through `groq-sdk`; its wire format is chat completions under /openai/v1, so the mapping is shared. */
export function groqAdapter(options: SdkClientOptions): ProviderAdapter {
  const client = new Groq(commonSdkOptions(options));
  return chatCompletionAdapter(
    'groq',
    'max_tokens',
    async (body, signal) => {
      const { data, response } = await client.chat.completions.create(body, { signal }).withResponse();
      return { data: data as AsyncIterable<ChatCompletionChunkLike>, response };
    },
    async (signal) => collectListed((await client.models.list({ signal })).data),
  );
}
