import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { migrationsApplied } from '../../db/migrate.js';
import type { AppContext } from '../context.js';
import { isLoopbackHost, metricsAccess } from '../http/metrics-access.js';
import { route, type AnyRoute } from '../http/route.js';

const status = z.object({ status: z.string() });

export function opsRoutes(ctx: AppContext): AnyRoute[] {
  const checkMetricsAccess = metricsAccess({ host: ctx.config.host, token: ctx.config.security.metricsToken });
  if (!ctx.config.security.metricsToken && !isLoopbackHost(ctx.config.host)) {
    ctx.logger.warn({ host: ctx.config.host }, '/metrics answers 403 to everyone: the server listens beyond loopback and SAMOKODER_METRICS_TOKEN is not set');
  }
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
      summary: 'Readiness: the database answers and every migration is applied',
      tag: 'ops',
      auth: 'none',
      responses: { 200: { description: 'Ready', schema: status }, 503: { description: 'Not ready' } },
      handler: async () => {
        const dbUp = await ctx.db.ping().then(
          () => true,
          () => false,
        );
        if (!dbUp) throw new AppError('E_UNAVAILABLE', 'The database is not reachable.');
        if (!(await migrationsApplied(ctx.db))) throw new AppError('E_UNAVAILABLE', 'Database migrations are not applied yet.');
        return { body: { status: 'ready' } };
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (bearer SAMOKODER_METRICS_TOKEN; open without one only on loopback)',
      tag: 'ops',
      auth: 'none',
      responses: {
        200: { description: 'Prometheus text exposition format', contentType: 'text/plain' },
        401: { description: 'The metrics token is missing or wrong' },
        403: { description: 'Listening beyond loopback with no metrics token configured' },
      },
      handler: async ({ req, res }) => {
        checkMetricsAccess(req);
        res.setHeader('Content-Type', ctx.metrics.registry.contentType);
        res.end(await ctx.metrics.registry.metrics());
      },
    }),
  ];
}
