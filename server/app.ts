import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import { AppError } from '../core/errors.js';
import type { AppContext } from './context.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { mountRoutes } from './http/mount.js';
import { mountWebUi } from './http/web-ui.js';
import type { AnyRoute } from './http/route.js';
import { buildOpenApi } from './openapi.js';
import { accountRoutes } from './routes/account.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authRoutes } from './routes/auth.js';
import { opsRoutes } from './routes/ops.js';
import { usageRoutes } from './routes/usage.js';
import { exportRoutes } from './routes/export.js';
import { fileRoutes } from './routes/files.js';
import { historyRoutes } from './routes/history.js';
import { projectRoutes } from './routes/projects.js';
import { runRoutes } from './routes/runs.js';
import { route } from './http/route.js';
import { WindowLimiter } from './http/rate-limit.js';

export const VERSION = '0.1.0';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Every route of the API, in one table: mounted, documented (OpenAPI) and tested from here. */
export function routeTable(ctx: AppContext): AnyRoute[] {
  const routes: AnyRoute[] = [...opsRoutes(ctx), ...authRoutes(ctx), ...accountRoutes(ctx), ...apiKeyRoutes(ctx), ...usageRoutes(ctx),
    ...projectRoutes(ctx), ...runRoutes(ctx), ...fileRoutes(ctx), ...historyRoutes(ctx), ...exportRoutes(ctx)];
  const openapi = route({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'ops',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handler: async () => ({ body: document }),
  });
  const document = buildOpenApi([...routes, openapi], VERSION);
  return [...routes, openapi];
}

export function createApp(ctx: AppContext): { app: Express; routes: AnyRoute[] } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);

  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      // Request logs carry method, url, status and latency; never bodies (they may hold keys).
      serializers: {
        req: (req: { id: unknown; method: unknown; url: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  app.use((req, res, next) => {
    const end = ctx.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // The route pattern, not the raw URL, keeps the label set small.
      const pattern = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const labels = { method: req.method, route: pattern, status: String(res.statusCode) };
      ctx.metrics.httpRequests.inc(labels);
      end(labels);
    });
    next();
  });

  app.use(express.json({ limit: ctx.config.bodyLimit, strict: false, type: ['application/json', 'application/*+json'] }));

  const limiter = rateLimit({
    windowMs: ctx.config.authRateLimit.windowSeconds * 1000,
    limit: ctx.config.authRateLimit.max,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next, options) => {
      const retryAfterSeconds = Math.ceil(options.windowMs / 1000);
      next(new AppError('E_RATE_LIMITED', `Too many sign-in attempts. Try again in ${retryAfterSeconds} seconds.`, { retryAfterSeconds }));
    },
  });
  app.use(['/api/auth/login', '/api/auth/register'], limiter);
  // Per account too, so a guesser spread over many addresses still gets few tries per account.
  // (The price: a flood can delay the account's own sign-in for one window.)
  const perAccount = new WindowLimiter({
    max: ctx.config.authRateLimit.perAccount,
    windowSeconds: ctx.config.authRateLimit.windowSeconds,
    clock: ctx.clock,
    what: 'sign-in attempts for this account',
  });
  app.use(['/api/auth/login', '/api/auth/register'], (req, _res, next) => {
    const email = (req.body as { email?: unknown } | undefined)?.email;
    try {
      if (typeof email === 'string') perAccount.hit(`auth:${email.trim().toLowerCase()}`);
      next();
    } catch (err) {
      next(err);
    }
  });

  const routes = routeTable(ctx);
  mountRoutes(app, ctx, routes);
  mountWebUi(app);
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return { app, routes };
}
