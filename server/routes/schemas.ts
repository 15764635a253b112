import { z } from 'zod';

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
    maxRunSeconds: z.number().int().nullable().meta({ description: "A run's wall-clock budget from its first start (resumes included); null: unlimited" }),
    monthlySandboxSeconds: z.number().int().nullable().meta({ description: 'Wall-clock seconds of sandbox commands per month; null: unlimited' }),
    maxWorkspaceMb: z.number().int().nullable().meta({ description: "Disk quota of each project's workspace (files and git history), MiB; null: the server's default" }),
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
