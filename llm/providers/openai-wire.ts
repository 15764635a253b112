import { ErrorInOkBody, TruncatedStreamError } from './provider-errors.js';
import type { AttemptContext, ProviderAdapter } from './resilient-model.js';
import type { FinishReason, ListedModel, LlmRequest, ProviderId, StreamPart, Usage } from './port.js';

/**
 * The OpenAI chat-completions wire format, shared by every adapter that speaks it (the `openai` SDK
 * for openai / openrouter / openai-compatible, and `groq-sdk`): request body and chunk mapping.
 * Types are the minimal structural subset both SDKs accept and return.
 */

type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
      /** DeepSeek (thinking mode with tools) answers 400 when a tool-call turn comes back without it. */
      reasoning_content?: string;
    }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface ChatCompletionBody {
  model: string;
  messages: WireMessage[];
  tools?: { type: 'function'; function: { name: string; description: string; parameters: Record<string, unknown> } }[];
  tool_choice?: 'auto' | 'required' | { type: 'function'; function: { name: string } };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  stream: true;
  stream_options: { include_usage: boolean };
}

/** OpenAI's own API wants max_completion_tokens (reasoning models refuse max_tokens); most others still read max_tokens. */
export type MaxTokensField = 'max_tokens' | 'max_completion_tokens';

export function toChatCompletionBody(request: LlmRequest, maxTokensField: MaxTokensField): ChatCompletionBody {
  const messages: WireMessage[] = [{ role: 'system', content: request.system }];
  for (const m of request.messages) {
    if (m.role === 'user') messages.push({ role: 'user', content: m.content });
    else if (m.role === 'assistant') {
      messages.push({
        role: 'assistant',
        content: m.content === '' && m.toolCalls?.length ? null : m.content,
        ...(m.reasoning ? { reasoning_content: m.reasoning } : {}),
        ...(m.toolCalls?.length
          ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      });
    } else {
      // The wire has no error flag for tool results; say it in the content so the model notices.
      messages.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.isError ? `Error: ${m.content}` : m.content });
    }
  }
  const body: ChatCompletionBody = {
    model: request.model,
    messages,
    [maxTokensField]: request.maxOutputTokens,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    const choice = request.toolChoice ?? 'auto';
    body.tool_choice = typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  }
  return body;
}

/** The fields of a streamed chunk we read (OpenAI's ChatCompletionChunk; Groq adds x_groq.usage). */
export interface ChatCompletionChunkLike {
  choices: {
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason?: string | null;
  }[];
  usage?: UsageLike | null;
  x_groq?: { usage?: UsageLike | null } | null;
}

interface UsageLike {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  length: 'length',
  content_filter: 'content_filter',
};

/**
 * Turns chunks into parts: text as it comes, each tool call once and whole (its arguments arrive in
 * pieces). A delta belongs to the call of its `index` — unless it names a new id: Ollama, LiteLLM
 * and Gemini bridges stream parallel calls all at index 0, told apart only by their ids.
 */
export class ChatCompletionStreamMapper {
  /** In the order they started. */
  private calls: { id: string; name: string; arguments: string }[] = [];
  /** The call each index's deltas go to now. */
  private readonly byIndex = new Map<number, { id: string; name: string; arguments: string }>();
  private finish: FinishReason | undefined;

  constructor(private readonly provider: ProviderId) {}

  *push(chunk: ChatCompletionChunkLike): Generator<StreamPart> {
    const usage = chunk.usage ?? chunk.x_groq?.usage;
    if (usage) yield { type: 'usage', usage: toUsage(usage) };
    for (const choice of chunk.choices ?? []) {
      if (choice.delta?.reasoning_content) yield { type: 'reasoning-delta', text: choice.delta.reasoning_content };
      if (choice.delta?.content) yield { type: 'text-delta', text: choice.delta.content };
      for (const d of choice.delta?.tool_calls ?? []) {
        const index = d.index ?? 0;
        let call = this.byIndex.get(index);
        if (!call || (d.id && call.id && d.id !== call.id && d.function?.name)) {
          call = { id: '', name: '', arguments: '' };
          this.calls.push(call);
          this.byIndex.set(index, call);
        }
        if (d.id) call.id = d.id;
        if (d.function?.name) call.name += d.function.name;
        if (d.function?.arguments) call.arguments += d.function.arguments;
      }
      if (choice.finish_reason) {
        this.finish = FINISH_REASONS[choice.finish_reason] ?? 'other';
        yield* this.flushToolCalls();
      }
    }
  }

  /** After the last chunk. Ends with the finish part, or throws if the stream was cut before one. */
  *end(): Generator<StreamPart> {
    if (this.finish === undefined) throw new TruncatedStreamError(this.provider);
    yield* this.flushToolCalls();
    yield { type: 'finish', reason: this.finish };
  }

  private *flushToolCalls(): Generator<StreamPart> {
    for (const call of this.calls) yield { type: 'tool-call', call: { ...call, arguments: call.arguments || '{}' } };
    this.calls = [];
    this.byIndex.clear();
  }
}

function toUsage(u: UsageLike): Usage {
  const usage: Usage = { inputTokens: u.prompt_tokens ?? 0, outputTokens: u.completion_tokens ?? 0 };
  const cached = u.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') usage.cacheReadTokens = cached;
  return usage;
}

/** What a chat-completions SDK call gives: its stream, and the HTTP response it will read (`.withResponse()`). */
export interface ChatCompletionAnswer {
  data: AsyncIterable<ChatCompletionChunkLike>;
  response: Response;
}

/** An adapter for any SDK that speaks chat completions: `create` is that SDK's streaming call, `listModels` its GET /models. */
export function chatCompletionAdapter(
  provider: ProviderId,
  maxTokensField: MaxTokensField,
  create: (body: ChatCompletionBody, signal: AbortSignal) => Promise<ChatCompletionAnswer>,
  listModels: (signal: AbortSignal) => Promise<ListedModel[]>,
): ProviderAdapter {
  return {
    provider,
    listModels,
    async *attempt(request: LlmRequest, ctx: AttemptContext) {
      const { data, response } = await create(toChatCompletionBody(request, maxTokensField), ctx.signal);
      const mapper = new ChatCompletionStreamMapper(provider);
      if (isJson(response)) {
        // Not a stream: a gateway's error in a 200 (OpenRouter's "Insufficient credits"), or a
        // server that ignored stream: true. The SDK would find no events in it and call it cut short.
        yield* mapper.push(wholeAnswerAsChunk(await response.json()));
      } else {
        for await (const chunk of data) {
          ctx.onChunk();
          yield* mapper.push(chunk);
        }
      }
      yield* mapper.end();
    },
  };
}

function isJson(response: Response): boolean {
  return /^application\/([\w.+-]+\+)?json\b/i.test(response.headers.get('content-type') ?? '');
}

/** A non-streamed chat completion as the one chunk that says it all; an error body is thrown as the error it is. */
function wholeAnswerAsChunk(body: unknown): ChatCompletionChunkLike {
  const b = (body ?? {}) as {
    error?: unknown;
    choices?: { message?: { content?: string | null; reasoning_content?: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }; finish_reason?: string | null }[];
    usage?: UsageLike;
  };
  if (b.error) throw new ErrorInOkBody(b.error);
  if (!Array.isArray(b.choices)) throw new ErrorInOkBody({ message: 'the provider answered 200 with a body that is neither a completion nor an error' });
  return {
    choices: b.choices.map((c) => ({
      delta: {
        content: c.message?.content ?? null,
        reasoning_content: c.message?.reasoning_content ?? null,
        tool_calls: (c.message?.tool_calls ?? []).map((t, index) => ({ index, id: t.id, function: t.function })),
      },
      finish_reason: c.finish_reason ?? 'stop',
    })),
    usage: b.usage ?? null,
  };
}
