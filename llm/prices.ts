import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { Usage } from './providers/port.js';
import builtIn from './prices.json' with { type: 'json' };

/**
 * The price table: USD per million tokens for each provider's models. USD per million tokens is
 * the same number as micro-USD per token, so a cost in micro-USD is tokens × price, rounded once.
 */
const modelPrice = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cacheRead: z.number().nonnegative().optional(),
  cacheWrite: z.number().nonnegative().optional(),
});
const tableSchema = z.object({ providers: z.record(z.string(), z.record(z.string(), modelPrice)) });

export type ModelPrice = z.infer<typeof modelPrice>;

export class PriceTable {
  private constructor(private readonly table: z.infer<typeof tableSchema>) {}

  static builtIn(): PriceTable {
    return new PriceTable(tableSchema.parse(builtIn));
  }

  /** SAMOKODER_PRICES_FILE when set (replacing the built-in table), else the built-in one. */
  static async load(file: string | undefined): Promise<PriceTable> {
    if (!file) return PriceTable.builtIn();
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new AppError('E_CONFIG', `SAMOKODER_PRICES_FILE: cannot read ${file}: ${err.message}`);
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new AppError('E_CONFIG', `SAMOKODER_PRICES_FILE: ${file} is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = tableSchema.safeParse(json);
    if (!parsed.success) {
      throw new AppError('E_CONFIG', `SAMOKODER_PRICES_FILE: ${file} must look like {"providers": {"openai": {"gpt-4o": {"input": 2.5, "output": 10}}}} (USD per million tokens): ${parsed.error.issues[0]?.message ?? ''}`);
    }
    return new PriceTable(parsed.data);
  }

  price(provider: string, model: string): ModelPrice | undefined {
    return this.table.providers[provider]?.[model];
  }

  /** Cost in micro-USD, or null when the model has no price (its tokens are still counted). */
  costMicroUsd(provider: string, model: string, usage: Usage): number | null {
    const p = this.price(provider, model);
    if (!p) return null;
    // The port's inputTokens include cached prompt tokens; those are billed at their own prices.
    const cacheRead = usage.cacheReadTokens ?? 0;
    const cacheWrite = usage.cacheWriteTokens ?? 0;
    const uncached = Math.max(0, usage.inputTokens - cacheRead - cacheWrite);
    const cost =
      uncached * p.input + usage.outputTokens * p.output + cacheRead * (p.cacheRead ?? p.input) + cacheWrite * (p.cacheWrite ?? p.input);
    return Math.round(cost);
  }
}
