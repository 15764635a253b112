import type { ModelPrices } from '../protocol/model-catalogue.js';
import type { Usage } from '../llm/providers/port.js';

/** Where the ledger reads a model's prices: the model catalogue (llm/model-catalogue.ts). */
export interface PriceSource {
  /** USD per million tokens; undefined when the catalogue has no price for the model. */
  price(provider: string, model: string): ModelPrices | undefined;
}

/**
 * A call's cost in micro-USD, or null without a price (its tokens are still counted). USD per
 * million tokens is the same number as micro-USD per token, so the cost is tokens × price,
 * rounded once. The port's inputTokens include cached prompt tokens; those are billed at their
 * own prices (input's when the catalogue has none).
 */
export function costMicroUsd(p: ModelPrices | undefined, usage: Usage): number | null {
  if (!p) return null;
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const uncached = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
  const cost = uncached * p.input + usage.outputTokens * p.output + cacheRead * (p.cachedInput ?? p.input) + cacheWrite * (p.cacheWrite ?? p.input);
  return Math.round(cost);
}
