import type { ProviderId } from '../../llm/providers/port.js';
import type { TurnPlan } from './script.js';

/** OpenAI chat completions, as OpenAI, OpenRouter, Groq (under /openai/v1) and compatible servers send it. */

export interface ChatContext {
  provider: ProviderId;
  model: string;
  includeUsage: boolean;
}

function wireUsage(plan: TurnPlan): Record<string, unknown> {
  return {
    prompt_tokens: plan.usage.input,
    completion_tokens: plan.usage.output,
    total_tokens: plan.usage.input + plan.usage.output,
    ...(plan.usage.cacheRead !== undefined ? { prompt_tokens_details: { cached_tokens: plan.usage.cacheRead } } : {}),
  };
}

/** Server-sent events: one `data:` line per chunk, then `data: [DONE]`. */
export function chatCompletionEvents(plan: TurnPlan, ctx: ChatContext, id: string): string[] {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: ctx.model, system_fingerprint: 'fp_fake', choices, ...extra })}\n\n`;
  const delta = (d: Record<string, unknown>, finish: string | null = null): string =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

  const events = [delta({ role: 'assistant', content: '' })];
  for (const reasoning of plan.reasoningPieces) events.push(delta({ reasoning_content: reasoning }));
  for (const text of plan.textPieces) events.push(delta({ content: text }));
  plan.toolCalls.forEach((call, i) => {
    const index = plan.sameToolCallIndex ? 0 : i;
    // As OpenAI does: id and name first with empty arguments, then the argument fragments.
    events.push(delta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of call.argumentPieces) events.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  // Groq reports usage on the last choice chunk under x_groq; the others only with include_usage.
  events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: plan.finishReason }],
    ctx.provider === 'groq' && plan.reportUsage ? { x_groq: { id: `req_${id}`, usage: wireUsage(plan) } } : {}));
  if (ctx.includeUsage && plan.reportUsage) events.push(chunk([], { usage: wireUsage(plan) }));
  events.push('data: [DONE]\n\n');
  return events;
}

export function chatCompletionJson(plan: TurnPlan, ctx: ChatContext, id: string): unknown {
  const text = plan.textPieces.join('');
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || null,
          refusal: null,
          ...(plan.reasoningPieces.length ? { reasoning_content: plan.reasoningPieces.join('') } : {}),
          ...(plan.toolCalls.length
            ? { tool_calls: plan.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
            : {}),
        },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    ...(plan.reportUsage ? { usage: wireUsage(plan) } : {}),
  };
}

export function openAiError(status: number, message: string): unknown {
  const [type, code] =
    status === 401 ? ['invalid_request_error', 'invalid_api_key']
    : status === 403 ? ['invalid_request_error', 'permission_denied']
    : status === 429 ? ['requests', 'rate_limit_exceeded']
    : status >= 500 ? ['server_error', null]
    : ['invalid_request_error', null];
  return { error: { message, type, param: null, code } };
}

/** DeepSeek's answer to a thinking-mode conversation whose tool-call turn lost its reasoning_content; undefined when none did. */
export function missingReasoningContent(body: unknown): string | undefined {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(messages)) return undefined;
  const index = messages.findIndex((m: { role?: unknown; tool_calls?: unknown; reasoning_content?: unknown }) =>
    m?.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0 && typeof m.reasoning_content !== 'string');
  return index < 0 ? undefined : `Missing \`reasoning_content\` field in the assistant message at message index ${index}`;
}

/** An error inside a 200 event stream, as OpenAI sends one mid-stream. */
export function openAiStreamError(status: number, message: string): string {
  return `data: ${JSON.stringify(openAiError(status, message))}\n\n`;
}

export function openAiModels(models: string[]): unknown {
  return { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'samokoder-fake' })) };
}
