import { z } from 'zod';
import { usageSchema } from '../../protocol/api-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';

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
      summary: "This month's LLM usage by provider and model, and the plan's limits",
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
