import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { isLoopbackHost } from '../../core/net/loopback.js';
import { migrationsApplied } from '../../db/migrate.js';
import { sandboxAvailability, type SandboxAvailability } from '../../sandbox/index.js';
import type { AppContext } from '../context.js';
import { metricsAccess } from '../http/metrics-access.js';
import { route, type AnyRoute } from '../http/route.js';

const status = z.object({ status: z.string() });
const workspaceQuotaCheck = z.object({
  setting: z.enum(['enforce', 'best-effort', 'reactive', 'off']),
  active: z.enum(['volume', 'reactive', 'off']).meta({ description: 'volume: preventive (loop-mounted filesystems); reactive: measured after commands and before commits' }),
  reason: z.string().optional().meta({ description: 'Why volumes are not in use' }),
});

/** How long /readyz waits for the sandbox's answer; a probe that takes longer reports `checking` (and goes on, cached for the next call). */
const SANDBOX_WAIT_MS = 5_000;

const sandboxCheck = z.object({
  status: z.enum(['ok', 'unavailable', 'off', 'checking']),
  image: z.string().optional(),
  component: z.enum(['engine', 'image', 'off']).optional().meta({ description: 'What is missing: the Docker engine, the sandbox image, or the sandbox is turned off' }),
  reason: z.string().optional(),
  fix: z.string().optional().meta({ description: 'What the operator runs to fix it' }),
});

const readiness = z.object({
  status: z.enum(['ready', 'degraded']).meta({ description: 'degraded: the API serves, but runs cannot build apps (see checks.sandbox)' }),
  checks: z.object({ database: z.object({ status: z.literal('ok') }), sandbox: sandboxCheck, workspaceQuota: workspaceQuotaCheck.optional() }),
});

function sandboxDetail(a: SandboxAvailability | undefined): z.infer<typeof sandboxCheck> {
  if (!a) return { status: 'checking', reason: `The Docker engine has not answered within ${SANDBOX_WAIT_MS / 1000} s yet` };
  if (a.available) return { status: 'ok', image: a.image };
  return { status: a.component === 'off' ? 'off' : 'unavailable', component: a.component, reason: a.reason, fix: a.fix };
}

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
      summary: 'Readiness: the database answers and every migration is applied; checks.sandbox says whether runs can build apps (and the fix when not), checks.workspaceQuota how workspaces are limited on this node',
      tag: 'ops',
      auth: 'none',
      responses: { 200: { description: 'Ready (or degraded: serving, but the sandbox is unavailable)', schema: readiness }, 503: { description: 'Not ready: the database' } },
      handler: async () => {
        const dbUp = await ctx.db.ping().then(
          () => true,
          () => false,
        );
        if (!dbUp) throw new AppError('E_UNAVAILABLE', 'The database is not reachable.');
        if (!(await migrationsApplied(ctx.db))) throw new AppError('E_UNAVAILABLE', 'Database migrations are not applied yet.');
        let timer: NodeJS.Timeout | undefined;
        const sandbox = sandboxDetail(
          await Promise.race([
            sandboxAvailability(ctx.sandbox),
            new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SANDBOX_WAIT_MS))),
          ]).finally(() => clearTimeout(timer)),
        );
        const quota = await ctx.workspaces.quotaStatus?.();
        const body: z.infer<typeof readiness> = {
          status: sandbox.status === 'ok' ? 'ready' : 'degraded',
          checks: { database: { status: 'ok' }, sandbox, ...(quota ? { workspaceQuota: quota } : {}) },
        };
        return { body };
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
