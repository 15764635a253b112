import { z } from 'zod';

/**
 * An id in a path, query or body: any UUID, in either case, turned into the lower-case form every
 * id takes in the database, on disk and in labels — so `…/projects/0F8FAD5B-…` names the same
 * project as `…/projects/0f8fad5b-…`, everywhere below the route.
 */
export const idSchema = (message: string) => z.uuid({ message }).toLowerCase();

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: z.enum(['user', 'admin']),
    planId: z.string(),
    createdAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'User' });

export const planSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    maxProjects: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    monthlyTokenLimit: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    maxConcurrentRuns: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    byokAllowed: z.boolean(),
    platformKeysAllowed: z.boolean(),
    priceUsdMonth: z.number(),
  })
  .meta({ id: 'Plan' });

export const toUserJson = (u: { id: string; email: string; role: 'user' | 'admin'; planId: string; createdAt: Date }) => ({
  id: u.id,
  email: u.email,
  role: u.role,
  planId: u.planId,
  createdAt: u.createdAt.toISOString(),
});
