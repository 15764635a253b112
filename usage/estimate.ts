import type { LlmRequest } from '../llm/providers/port.js';

/** Roughly what a message costs beyond its text (role markers, separators). */
const PER_MESSAGE_TOKENS = 4;

/**
 * The worst case a call can use, reserved before it is sent: the prompt's tokens, estimated, plus
 * every output token allowed. The estimate counts one token per 3 characters, which is above what
 * BPE tokenizers produce for English and code (about 4), so a reservation errs on the high side
 * and the settled usage rarely exceeds it.
 */
export function estimateWorstCaseTokens(request: LlmRequest): number {
  let chars = request.system.length;
  for (const m of request.messages) {
    chars += m.content.length;
    if (m.role === 'assistant') for (const c of m.toolCalls ?? []) chars += c.name.length + c.arguments.length;
    if (m.role === 'tool') chars += m.name.length;
  }
  for (const t of request.tools ?? []) chars += t.name.length + t.description.length + JSON.stringify(t.parameters).length;
  const prompt = Math.ceil(chars / 3) + PER_MESSAGE_TOKENS * (request.messages.length + 1);
  return prompt + Math.max(0, Math.floor(request.maxOutputTokens));
}
