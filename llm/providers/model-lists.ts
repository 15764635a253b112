import type { ListedModel } from './port.js';

/**
 * Reads one entry of a provider's model list into a ListedModel. The official SDKs type only `id`
 * (and Anthropic its own fields); the wire carries more, each provider under its own name:
 * OpenRouter `context_length` and `top_provider.max_completion_tokens`, Groq `context_window` and
 * `max_completion_tokens`, vLLM `max_model_len`, Anthropic `max_input_tokens` and `max_tokens`.
 * Anthropic also lists retired models (`lifecycle: "retired"`): those are not usable, so undefined.
 */
export function listedModel(entry: unknown): ListedModel | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.id !== 'string' || e.id === '') return undefined;
  if (e.lifecycle === 'retired') return undefined;
  const topProvider = (e.top_provider ?? {}) as Record<string, unknown>;
  const contextWindow = firstCount(e.context_length, e.context_window, e.max_model_len, e.max_input_tokens);
  const maxOutputTokens = firstCount(topProvider.max_completion_tokens, e.max_completion_tokens, e.max_tokens);
  return { id: e.id, ...(contextWindow ? { contextWindow } : {}), ...(maxOutputTokens ? { maxOutputTokens } : {}) };
}

function firstCount(...values: unknown[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  return undefined;
}

/** Every usable entry of a list, each id once (a paginated list may repeat one at a page edge). */
export async function collectListed(entries: AsyncIterable<unknown> | Iterable<unknown>): Promise<ListedModel[]> {
  const byId = new Map<string, ListedModel>();
  for await (const entry of entries) {
    const m = listedModel(entry);
    if (m && !byId.has(m.id)) byId.set(m.id, m);
  }
  return [...byId.values()];
}
