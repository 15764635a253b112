import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { PlansRepo } from '../../db/repos/plans.js';
import { monthUsage } from '../../db/repos/usage-summary.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { meSchema } from '../../protocol/api-types.js';
import { planSchema, toUserJson } from './schemas.js';

export function accountRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/me',
      summary: 'The caller, their plan and their usage this month',
      tag: 'account',
      auth: 'user',
      responses: { 200: { description: 'The caller', schema: meSchema } },
      handler: async ({ auth }) => {
        const user = auth!.user;
        const plan = await new PlansRepo(ctx.db).get(user.planId);
        if (!plan) throw notFound('Plan');
        const usage = await monthUsage(ctx.db, user.id, ctx.clock.now());
        const projects = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM projects WHERE user_id = $1', [user.id]);
        return { body: { user: toUserJson(user), plan, usage: { ...usage, projects: projects.rows[0]?.n ?? 0 } } };
      },
    }),
    route({
      method: 'get',
      path: '/api/plans',
      summary: 'The plans and their limits',
      tag: 'account',
      auth: 'none',
      responses: { 200: { description: 'Plans, cheapest first', schema: z.object({ plans: z.array(planSchema) }) } },
      handler: async () => ({ body: { plans: await new PlansRepo(ctx.db).list() } }),
    }),
  ];
}
