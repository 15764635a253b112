import { z } from 'zod';
import type { CatalogueSeed } from '../db/repos/model-catalogue.js';
import { modelPricesSchema, recommendedSchema } from '../protocol/model-catalogue.js';
import { PROVIDERS } from '../protocol/providers.js';
import shipped from './model-catalogue.json' with { type: 'json' };

/** The shipped seed file (llm/model-catalogue.json): what a new database's catalogue starts from. */
const seedModel = z.object({
  name: z.string().min(1),
  contextWindow: z.number().int().positive().nullable(),
  maxOutputTokens: z.number().int().positive().nullable(),
  toolCalling: z.boolean(),
  prices: modelPricesSchema.nullable(),
  recommended: recommendedSchema.optional(),
});

const seedSchema = z
  .object({
    date: z.iso.date(),
    providers: z.partialRecord(z.enum(PROVIDERS), z.object({ name: z.string().min(1), models: z.record(z.string().min(1), seedModel) })),
  })
  .superRefine((seed, ctx) => {
    for (const [provider, p] of Object.entries(seed.providers)) {
      const taken = new Map<string, string>();
      for (const [model, m] of Object.entries(p.models)) {
        for (const [role, tier] of Object.entries(m.recommended ?? {})) {
          const other = taken.get(`${role}:${tier}`);
          if (other) ctx.addIssue({ code: 'custom', path: ['providers', provider, 'models', model, 'recommended', role], message: `${provider} already recommends ${other} as the ${tier} ${role}` });
          taken.set(`${role}:${tier}`, model);
        }
      }
    }
  });

export type { CatalogueSeed };

/** Parses a seed file's JSON; throws (naming the field) when it is malformed. */
export function parseSeed(json: unknown): CatalogueSeed {
  const seed = seedSchema.parse(json);
  const providers = PROVIDERS.filter((id) => seed.providers[id]).map((id, sortOrder) => ({ id, name: seed.providers[id]!.name, sortOrder }));
  const models = providers.flatMap(({ id }) =>
    Object.entries(seed.providers[id]!.models).map(([model, m]) => ({ provider: id, model, ...m, recommended: m.recommended ?? {} })),
  );
  return { date: seed.date, providers, models };
}

export const shippedSeed = (): CatalogueSeed => parseSeed(shipped);
