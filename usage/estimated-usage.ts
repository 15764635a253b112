import type { LlmRequest, LlmResponse, Usage } from '../llm/providers/port.js';
import { countTokens } from './token-count.js';

/** What each message adds beyond its text in the chat templates (role markers, separators). */
const PER_MESSAGE_TOKENS = 4;

/**
 * The usage of a call whose provider reported none (many OpenAI-compatible servers, older Ollama,
 * proxies that strip it): the request's tokens and the answer's, counted with a tokenizer
 * (token-count.ts), marked `estimated`. Billing it keeps the run's token stop-loss and the plan's
 * monthly limit in force; recording zero would let such a provider run for free forever. Each
 * text is counted on its own, so the texts a conversation resends are counted once (token-count.ts).
 */
export async function estimateUsage(request: LlmRequest, answer: Pick<LlmResponse, 'text' | 'reasoning' | 'toolCalls'>): Promise<Usage> {
  const prompt: string[] = [request.system];
  for (const m of request.messages) {
    prompt.push(m.content);
    if (m.role === 'assistant') {
      if (m.reasoning) prompt.push(m.reasoning);
      for (const c of m.toolCalls ?? []) prompt.push(c.name, c.arguments);
    }
  }
  for (const t of request.tools ?? []) prompt.push(JSON.stringify(t));
  const output = [answer.reasoning, answer.text, ...answer.toolCalls.flatMap((c) => [c.name, c.arguments])];
  return {
    inputTokens: (await sum(prompt)) + PER_MESSAGE_TOKENS * (request.messages.length + 1),
    outputTokens: await sum(output),
    estimated: true,
  };
}

async function sum(texts: string[]): Promise<number> {
  let n = 0;
  for (const t of texts) n += await countTokens(t);
  return n;
}
