import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { migrationsApplied } from '../../db/migrate.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';

const status = z.object({ status: z.string() });
const readiness = status.extend({
  workspaceQuota: z
    .object({
      setting: z.enum(['enforce', 'best-effort', 'reactive', 'off']),
      active: z.enum(['volume', 'reactive', 'off']).meta({ description: 'volume: preventive (loop-mounted filesystems); reactive: measured after commands and before commits' }),
      reason: z.string().optional().meta({ description: 'Why volumes are not in use' }),
    })
    .optional(),
});

export function opsRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process is up',
      tag: 'ops',
      auth: 'none',
      responses: { 200: { description: 'Up', schema: status } },
      handler: async () => ({ body: { status: 'ok' } }),
    }),
    route({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: the database answers and every migration is applied; `workspaceQuota` says how workspaces are limited on this node',
      tag: 'ops',
      auth: 'none',
      responses: { 200: { description: 'Ready', schema: readiness }, 503: { description: 'Not ready' } },
      handler: async () => {
        const dbUp = await ctx.db.ping().then(
          () => true,
          () => false,
        );
        if (!dbUp) throw new AppError('E_UNAVAILABLE', 'The database is not reachable.');
        if (!(await migrationsApplied(ctx.db))) throw new AppError('E_UNAVAILABLE', 'Database migrations are not applied yet.');
        const quota = await ctx.workspaces.quotaStatus?.();
        return { body: { status: 'ready', ...(quota ? { workspaceQuota: quota } : {}) } };
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'ops',
      auth: 'none',
      responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
      handler: async ({ res }) => {
        res.setHeader('Content-Type', ctx.metrics.registry.contentType);
        res.end(await ctx.metrics.registry.metrics());
      },
    }),
  ];
}
