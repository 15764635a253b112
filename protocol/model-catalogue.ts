import { z } from 'zod';
import { PROVIDERS } from './providers.js';

/**
 * The model catalogue's API shapes (GET /api/models, the admin edits): server, web and CLI import
 * them from here. Prices are USD per million tokens — the same number as micro-USD per token.
 */

/** The agents a model may be recommended for, and how: the cheap pick or the strong one. */
export const MODEL_ROLES = ['planner', 'architect', 'coder', 'fixer'] as const;
export const MODEL_TIERS = ['cheap', 'strong'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
export type ModelTier = (typeof MODEL_TIERS)[number];

const usdPerMillion = z.number().nonnegative().max(100_000);

export const modelPricesSchema = z
  .object({
    input: usdPerMillion.meta({ description: 'USD per million input tokens' }),
    output: usdPerMillion.meta({ description: 'USD per million output tokens' }),
    cachedInput: usdPerMillion.nullable().meta({ description: 'USD per million input tokens read from the prompt cache; null: billed as input' }),
    cacheWrite: usdPerMillion.nullable().meta({ description: 'USD per million input tokens written to the prompt cache (Anthropic); null: billed as input' }),
  })
  .meta({ id: 'ModelPrices' });

export const recommendedSchema = z
  .partialRecord(z.enum(MODEL_ROLES), z.enum(MODEL_TIERS))
  .meta({ description: 'The roles this model is its provider\'s recommended pick for, cheap or strong, e.g. {"coder": "strong"}' });

export const catalogueModelSchema = z
  .object({
    provider: z.enum(PROVIDERS),
    id: z.string().meta({ description: 'The name the provider knows it by (the run\'s `model`)' }),
    name: z.string(),
    contextWindow: z.number().int().nullable().meta({ description: 'Tokens; null: unknown' }),
    maxOutputTokens: z.number().int().nullable().meta({ description: 'Tokens; a call asking for more is clamped to this. null: unknown' }),
    prices: modelPricesSchema.nullable().meta({ description: 'null: no price known (usage is counted, cost is null)' }),
    toolCalling: z.boolean().nullable().meta({ description: 'Whether it can call tools (the agents need it); null: unknown' }),
    recommended: recommendedSchema,
    source: z.enum(['catalogue', 'key']).meta({ description: 'catalogue: kept by the operator; key: only listed by one of your keys\' providers' }),
    keyIds: z.array(z.uuid()).meta({ description: 'Your stored keys whose provider listed this model (empty: none was asked)' }),
    retiredAt: z.string().nullable().meta({ format: 'date-time', description: 'Set: retired, never offered (only the admin listing shows these)' }),
  })
  .meta({ id: 'CatalogueModel' });

export const catalogueProviderSchema = z.object({
  id: z.enum(PROVIDERS),
  name: z.string(),
  models: z.array(catalogueModelSchema),
});

export const modelCatalogueSchema = z
  .object({
    catalogueDate: z.string().nullable().meta({ description: 'Date (YYYY-MM-DD) of the seed file the catalogue was filled from' }),
    providers: z.array(catalogueProviderSchema),
  })
  .meta({ id: 'ModelCatalogue' });

/** An operator's edit: creates the model, or changes the fields given. */
export const modelEditSchema = z
  .object({
    provider: z.enum(PROVIDERS),
    model: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
    contextWindow: z.number().int().positive().nullable().optional(),
    maxOutputTokens: z.number().int().positive().nullable().optional(),
    prices: modelPricesSchema.nullable().optional(),
    toolCalling: z.boolean().optional(),
    recommended: recommendedSchema.optional(),
    retired: z.boolean().optional().meta({ description: 'true: retired now (never offered or defaulted to); false: offered again' }),
  })
  .meta({ id: 'ModelEdit' });

export type ModelPrices = z.infer<typeof modelPricesSchema>;
export type Recommended = z.infer<typeof recommendedSchema>;
export type CatalogueModel = z.infer<typeof catalogueModelSchema>;
export type CatalogueProvider = z.infer<typeof catalogueProviderSchema>;
export type ModelCatalogue = z.infer<typeof modelCatalogueSchema>;
export type ModelEdit = z.infer<typeof modelEditSchema>;
