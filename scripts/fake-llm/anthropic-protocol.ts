import type { TurnPlan } from './script.js';

/** Anthropic's Messages API: named SSE events (`event:` + `data:` lines). */

const STOP_REASONS = { stop: 'end_turn', tool_calls: 'tool_use', length: 'max_tokens' } as const;

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function startUsage(plan: TurnPlan): Record<string, unknown> {
  return {
    input_tokens: plan.usage.input,
    cache_creation_input_tokens: plan.usage.cacheWrite ?? 0,
    cache_read_input_tokens: plan.usage.cacheRead ?? 0,
  };
}

export function messageEvents(plan: TurnPlan, model: string, id: string): string[] {
  const events = [
    sse('message_start', {
      message: {
        id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
        ...(plan.reportUsage ? { usage: { ...startUsage(plan), output_tokens: 1 } } : {}),
      },
    }),
  ];
  let index = 0;
  if (plan.textPieces.length) {
    events.push(sse('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    events.push(sse('ping', {}));
    for (const text of plan.textPieces) events.push(sse('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    events.push(sse('content_block_stop', { index }));
    index++;
  }
  for (const call of plan.toolCalls) {
    events.push(sse('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }));
    for (const partial_json of call.argumentPieces) {
      events.push(sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }));
    }
    events.push(sse('content_block_stop', { index }));
    index++;
  }
  events.push(sse('message_delta', {
    delta: { stop_reason: STOP_REASONS[plan.finishReason], stop_sequence: null },
    ...(plan.reportUsage ? { usage: { output_tokens: plan.usage.output } } : {}),
  }));
  events.push(sse('message_stop', {}));
  return events;
}

export function messageJson(plan: TurnPlan, model: string, id: string): unknown {
  const text = plan.textPieces.join('');
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [
      ...(text ? [{ type: 'text', text }] : []),
      ...plan.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: parseOrEmpty(c.arguments) })),
    ],
    stop_reason: STOP_REASONS[plan.finishReason],
    stop_sequence: null,
    ...(plan.reportUsage ? { usage: { ...startUsage(plan), output_tokens: plan.usage.output } } : {}),
  };
}

/**
 * The real API's check of the conversation (a 400 invalid_request_error): every message needs
 * non-empty content (only a final assistant message, a prefill, may be empty), and text blocks
 * need text. Returns the API's message, or undefined when the messages are fine.
 */
export function emptyContentError(body: unknown): string | undefined {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return undefined;
  for (const [i, m] of (messages as { role?: unknown; content?: unknown }[]).entries()) {
    const final = i === messages.length - 1 && m.role === 'assistant';
    const content = m.content;
    const empty = typeof content === 'string' ? content.trim() === '' : Array.isArray(content) && content.length === 0;
    if (empty && !final) return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    if (Array.isArray(content)) {
      const blank = content.findIndex((b: { type?: unknown; text?: unknown }) => b?.type === 'text' && (typeof b.text !== 'string' || b.text.trim() === ''));
      if (blank >= 0) return `messages.${i}.content.${blank}.text: text content blocks must contain non-whitespace text`;
    }
  }
  return undefined;
}

/** A non-streamed tool_use block must carry an object; malformed scripted arguments become {}. */
function parseOrEmpty(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

export function anthropicError(status: number, message: string): unknown {
  const type =
    status === 401 ? 'authentication_error'
    : status === 403 ? 'permission_error'
    : status === 404 ? 'not_found_error'
    : status === 429 ? 'rate_limit_error'
    : status === 529 ? 'overloaded_error'
    : status >= 500 ? 'api_error'
    : 'invalid_request_error';
  return { type: 'error', error: { type, message } };
}

/** Anthropic's `error` SSE event (e.g. overloaded_error mid-stream). */
export function anthropicStreamError(status: number, message: string): string {
  return sse('error', anthropicError(status, message) as { error: unknown });
}

export function anthropicModels(models: string[]): unknown {
  const data = models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
