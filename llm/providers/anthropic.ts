import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, RawMessageStreamEvent, ToolUnion, ContentBlockParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { collectListed } from './model-lists.js';
import { TruncatedStreamError } from './provider-errors.js';
import { commonSdkOptions, type SdkClientOptions } from './openai.js';
import type { FinishReason, LlmRequest, StreamPart, Usage } from './port.js';
import type { AttemptContext, ProviderAdapter } from './resilient-model.js';

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  refusal: 'content_filter',
};

/** Anthropic's prompt-cache marker (a 5-minute cache, refreshed by every hit). */
const EPHEMERAL = { type: 'ephemeral' } as const;

/** Anthropic's Messages API through `@anthropic-ai/sdk`, reading the raw SSE events. */
export function anthropicAdapter(options: SdkClientOptions): ProviderAdapter {
  const client = new Anthropic(commonSdkOptions(options));
  return {
    provider: 'anthropic',
    // The page iterates every page (1000 is the API's largest page).
    listModels: (signal) => collectListed(client.models.list({ limit: 1000 }, { signal })),
    async *attempt(request: LlmRequest, ctx: AttemptContext) {
      const events = await client.messages.create(
        {
          model: request.model,
          // The system prompt and the tools are the same on every call of a step: marked as the
          // cached prefix, later calls read them at the cached rate (ignored below the model's
          // minimum cacheable length).
          system: [{ type: 'text', text: request.system, cache_control: EPHEMERAL }],
          messages: toAnthropicMessages(request),
          max_tokens: request.maxOutputTokens,
          // No temperature, ever: the API version this SDK sends refuses it for current models.
          ...toolFields(request),
          stream: true,
        },
        { signal: ctx.signal },
      );
      const mapper = new AnthropicStreamMapper();
      for await (const event of events) {
        ctx.onChunk();
        yield* mapper.push(event);
      }
      yield* mapper.end();
    },
  };
}

function toolFields(request: LlmRequest): { tools?: ToolUnion[]; tool_choice?: Anthropic.Messages.ToolChoice } {
  if (!request.tools?.length) return {};
  const choice = request.toolChoice ?? 'auto';
  return {
    tools: request.tools.map((t, i, all) => ({
      name: t.name,
      description: t.description,
      input_schema: { type: 'object' as const, ...t.parameters },
      // The breakpoint on the last tool caches the tools with the system prompt before them.
      ...(i === all.length - 1 ? { cache_control: EPHEMERAL } : {}),
    })),
    tool_choice: choice === 'auto' ? { type: 'auto' } : choice === 'required' ? { type: 'any' } : { type: 'tool', name: choice.name },
  };
}

/**
 * Anthropic wants tool results as blocks of the next user turn, and strictly alternating roles.
 * An assistant turn with nothing in it (real models occasionally answer with no content at all)
 * is left out: the API refuses a message with empty content (400), and the turns around it merge.
 */
export function toAnthropicMessages(request: LlmRequest): MessageParam[] {
  const out: MessageParam[] = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void => {
    const last = out[out.length - 1];
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of request.messages) {
    if (m.role === 'user') append('user', [{ type: 'text', text: m.content }]);
    else if (m.role === 'assistant') {
      // Whitespace-only text is refused like empty text.
      const blocks: ContentBlockParam[] = m.content.trim() ? [{ type: 'text', text: m.content }] : [];
      for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: parseToolInput(c.arguments) });
      if (blocks.length) append('assistant', blocks);
    } else {
      const result: ToolResultBlockParam = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content };
      if (m.isError) result.is_error = true;
      append('user', [result]);
    }
  }
  return out;
}

/** History may hold a call whose arguments were malformed JSON; the API needs an object, so it gets `{}`. */
function parseToolInput(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Raw events to parts. Usage is normalised to the port's meaning: inputTokens counts every prompt
 * token, cached ones included (Anthropic reports input_tokens without the cache reads and writes).
 * Some proxies strip `usage` from the events: then no usage part is emitted (the gateway estimates).
 */
export class AnthropicStreamMapper {
  private readonly blocks = new Map<number, { id: string; name: string; json: string }>();
  private raw = { input: 0, output: 0, cacheRead: undefined as number | undefined, cacheWrite: undefined as number | undefined };
  private finish: FinishReason = 'other';
  private stopped = false;

  *push(event: RawMessageStreamEvent): Generator<StreamPart> {
    switch (event.type) {
      case 'message_start': {
        const u = event.message.usage as Anthropic.Messages.Usage | undefined;
        if (!u) break;
        this.raw = {
          input: u.input_tokens,
          output: u.output_tokens,
          cacheRead: u.cache_read_input_tokens ?? undefined,
          cacheWrite: u.cache_creation_input_tokens ?? undefined,
        };
        yield { type: 'usage', usage: this.usage() };
        break;
      }
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          this.blocks.set(event.index, { id: event.content_block.id, name: event.content_block.name, json: '' });
        } else if (event.content_block.type === 'text' && event.content_block.text) {
          yield { type: 'text-delta', text: event.content_block.text };
        }
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') yield { type: 'text-delta', text: event.delta.text };
        else if (event.delta.type === 'input_json_delta') {
          const block = this.blocks.get(event.index);
          if (block) block.json += event.delta.partial_json;
        }
        break;
      case 'content_block_stop': {
        const block = this.blocks.get(event.index);
        if (block) {
          this.blocks.delete(event.index);
          yield { type: 'tool-call', call: { id: block.id, name: block.name, arguments: block.json || '{}' } };
        }
        break;
      }
      case 'message_delta': {
        if (event.delta.stop_reason) this.finish = FINISH_REASONS[event.delta.stop_reason] ?? 'other';
        const u = event.usage as Anthropic.Messages.MessageDeltaUsage | undefined;
        if (!u) break;
        // message_delta's counts are cumulative; input and cache counts appear here only on some models.
        this.raw.output = u.output_tokens;
        if (u.input_tokens != null) this.raw.input = u.input_tokens;
        if (u.cache_read_input_tokens != null) this.raw.cacheRead = u.cache_read_input_tokens;
        if (u.cache_creation_input_tokens != null) this.raw.cacheWrite = u.cache_creation_input_tokens;
        yield { type: 'usage', usage: this.usage() };
        break;
      }
      case 'message_stop':
        this.stopped = true;
        break;
    }
  }

  *end(): Generator<StreamPart> {
    if (!this.stopped) throw new TruncatedStreamError('anthropic');
    yield { type: 'finish', reason: this.finish };
  }

  private usage(): Usage {
    const { input, output, cacheRead, cacheWrite } = this.raw;
    const usage: Usage = { inputTokens: input + (cacheRead ?? 0) + (cacheWrite ?? 0), outputTokens: output };
    if (cacheRead !== undefined) usage.cacheReadTokens = cacheRead;
    if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite;
    return usage;
  }
}
