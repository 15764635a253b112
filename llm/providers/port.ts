/**
 * The language-model port (after vercel/ai's LanguageModel spec): one request shape, one stream of
 * parts, for every provider. Adapters wrap the official SDKs unchanged; the rest of the product
 * (agents, ledger, key pool) only sees this file's types.
 */

import type { ProviderId } from '../../protocol/providers.js';

export { PROVIDERS, type ProviderId } from '../../protocol/providers.js';

/** A tool the model may call; `parameters` is a JSON Schema object (generated from zod). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A tool call as the model made it; `arguments` is the raw JSON text (it may be malformed). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type Message =
  | { role: 'user'; content: string }
  /**
   * `reasoning`: the model's thinking as the provider streamed it (DeepSeek's reasoning_content),
   * sent back with the turn where the provider requires it.
   */
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[]; reasoning?: string }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface LlmRequest {
  model: string;
  system: string;
  messages: Message[];
  tools?: ToolSpec[];
  /** 'required': the model must call some tool; {name}: that tool. */
  toolChoice?: 'auto' | 'required' | { name: string };
  /** Capped at the model's own output limit where it is known (model-limits.ts). */
  maxOutputTokens: number;
  /** Sent by the chat-completions adapters only: the Anthropic API version we pin refuses it. */
  temperature?: number;
  /** Aborting ends the HTTP request to the provider. */
  signal?: AbortSignal;
}

/**
 * Token counts as the provider reported them, normalised: `inputTokens` counts every prompt token,
 * cached ones included; `cacheReadTokens` / `cacheWriteTokens` say how many of those hit or filled
 * the provider's prompt cache (OpenAI reports it this way; Anthropic's counts are added up to match).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** The provider reported no usage; these counts are the gateway's estimate (usage/estimated-usage.ts). */
  estimated?: boolean;
}

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';

export type StreamPart =
  | { type: 'text-delta'; text: string }
  /** The model's thinking, where the provider streams it apart from the answer (DeepSeek's reasoning_content). */
  | { type: 'reasoning-delta'; text: string }
  /** Emitted once per call, complete, even when the provider streamed the arguments in pieces. */
  | { type: 'tool-call'; call: ToolCall }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: FinishReason };

export interface LlmResponse {
  text: string;
  /** The reasoning-delta parts joined; '' when the provider streamed none. */
  reasoning: string;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason: FinishReason;
}

/** One model a provider's list (GET /models) names as usable, with the limits the list states (few do). */
export interface ListedModel {
  id: string;
  contextWindow?: number;
  maxOutputTokens?: number;
}

/** Folds a stream's parts into one response (the latest usage snapshot wins). */
export class ResponseCollector {
  private readonly r: LlmResponse = { text: '', reasoning: '', toolCalls: [], usage: { inputTokens: 0, outputTokens: 0 }, finishReason: 'other' };

  push(part: StreamPart): void {
    if (part.type === 'text-delta') this.r.text += part.text;
    else if (part.type === 'reasoning-delta') this.r.reasoning += part.text;
    else if (part.type === 'tool-call') this.r.toolCalls.push(part.call);
    else if (part.type === 'usage') this.r.usage = part.usage;
    else this.r.finishReason = part.reason;
  }

  response(): LlmResponse {
    return this.r;
  }
}

/** Collects a whole stream. */
export async function collectResponse(parts: AsyncIterable<StreamPart>): Promise<LlmResponse> {
  const collector = new ResponseCollector();
  for await (const part of parts) collector.push(part);
  return collector.response();
}

export interface LanguageModel {
  readonly provider: ProviderId;
  stream(request: LlmRequest): AsyncIterable<StreamPart>;
  complete(request: LlmRequest): Promise<LlmResponse>;
  /**
   * The models this key may use, from the provider's own list (one attempt, no retries). A server
   * without a list answers 404: a ProviderError with providerStatus 404.
   */
  listModels(signal?: AbortSignal): Promise<ListedModel[]>;
}

/** What an adapter needs to reach a provider. The apiKey is plaintext only in memory, per call. */
export interface ProviderCredentials {
  provider: ProviderId;
  apiKey: string;
  /**
   * The key's own base URL (required for openai-compatible), overriding the provider's: user input,
   * so its connections go through the address guard (base-url-guard.ts).
   */
  baseUrl?: string;
}
