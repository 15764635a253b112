import { z } from 'zod';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';

const byModelSchema = z.object({
  provider: z.string(),
  model: z.string(),
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  costMicroUsd: z.number().int().nullable().meta({ description: 'null: no price known for this model' }),
  pending: z.number().int().meta({ description: 'Calls still in flight (reserved, not settled)' }),
});

const usageSchema = z
  .object({
    month: z.string().meta({ description: 'First day of the UTC month, YYYY-MM-DD' }),
    plan: z.object({
      id: z.string(),
      name: z.string(),
      monthlyTokenLimit: z.number().int().nullable().meta({ description: 'null: unlimited' }),
      monthlySandboxSeconds: z.number().int().nullable().meta({ description: 'Wall-clock seconds of sandbox commands per month; null: unlimited' }),
      maxRunSeconds: z.number().int().nullable().meta({ description: "A run's wall-clock budget from its first start; null: unlimited" }),
      byokAllowed: z.boolean(),
      platformKeysAllowed: z.boolean(),
    }),
    usedTokens: z.number().int(),
    reservedTokens: z.number().int(),
    remainingTokens: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    costMicroUsd: z.number().int(),
    byModel: z.array(byModelSchema),
    sandboxSeconds: z.number().meta({ description: 'Wall-clock seconds of sandbox commands this month (millisecond precision)' }),
    remainingSandboxSeconds: z.number().nullable().meta({ description: 'null: unlimited' }),
  })
  .meta({ id: 'Usage' });

const platformKeySchema = z
  .object({
    id: z.string().meta({ description: 'Fingerprint (SHA-256 prefix), not the key' }),
    provider: z.string(),
    masked: z.string(),
    status: z.enum(['active', 'cooling_down', 'disabled']),
    inFlight: z.number().int().meta({ description: 'Calls in flight on this node' }),
    requestCount: z.number().int(),
    errorCount: z.number().int(),
    cooldownUntil: z.string().nullable(),
    disabledAt: z.string().nullable(),
    disabledReason: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .meta({ id: 'PlatformKey' });

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function usageRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/usage',
      summary: "This month's LLM usage by provider and model, sandbox seconds, and the plan's limits",
      tag: 'account',
      auth: 'user',
      responses: { 200: { description: 'Usage this month', schema: usageSchema } },
      handler: async ({ auth }) => ({ body: await ctx.llm.ledger.summary(auth!.user.id) }),
    }),
    route({
      method: 'get',
      path: '/api/admin/platform-keys',
      summary: 'The platform key pool: each key masked, with its counters and state',
      tag: 'admin',
      auth: 'admin',
      responses: { 200: { description: 'Platform keys', schema: z.object({ keys: z.array(platformKeySchema) }) } },
      handler: async () => {
        const keys = await ctx.llm.keyPool.state();
        return {
          body: {
            keys: keys.map((k) => ({
              id: k.id,
              provider: k.provider,
              masked: k.masked,
              status: k.status,
              inFlight: k.inFlight,
              requestCount: k.requestCount,
              errorCount: k.errorCount,
              cooldownUntil: iso(k.cooldownUntil),
              disabledAt: iso(k.disabledAt),
              disabledReason: k.disabledReason,
              lastError: k.lastError,
            })),
          },
        };
      },
    }),
  ];
}
