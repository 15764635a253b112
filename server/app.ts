import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AppError } from '../core/errors.js';
import type { AppContext } from './context.js';
import { corsMiddleware } from './http/cors.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { mountRoutes } from './http/mount.js';
import { mountWebUi } from './http/web-ui.js';
import { observeRequests } from './http/observe.js';
import type { AnyRoute } from './http/route.js';
import { buildOpenApi } from './openapi.js';
import { accountRoutes } from './routes/account.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { modelRoutes } from './routes/models.js';
import { authRoutes } from './routes/auth.js';
import { opsRoutes } from './routes/ops.js';
import { usageRoutes } from './routes/usage.js';
import { exportRoutes } from './routes/export.js';
import { fileRoutes } from './routes/files.js';
import { historyRoutes } from './routes/history.js';
import { projectRoutes } from './routes/projects.js';
import { runRoutes } from './routes/runs.js';
import { chatRoutes } from './routes/chat.js';
import { estimateRoutes } from './routes/estimate.js';
import { screenshotRoutes } from './routes/screenshots.js';
import { gitCredentialRoutes } from './routes/git-credentials.js';
import { gitIoRoutes } from './routes/git-io.js';
import { previewRoutes } from './routes/preview.js';
import { projectEnvRoutes } from './routes/project-env.js';
import { route } from './http/route.js';
import { WindowLimiter } from './http/rate-limit.js';

export const VERSION = '0.1.0';

/** Every route of the API, in one table: mounted, documented (OpenAPI) and tested from here. */
export function routeTable(ctx: AppContext): AnyRoute[] {
  // gitIoRoutes before projectRoutes: /api/projects/import is not a project id.
  const routes: AnyRoute[] = [...opsRoutes(ctx), ...authRoutes(ctx), ...accountRoutes(ctx), ...apiKeyRoutes(ctx), ...modelRoutes(ctx), ...usageRoutes(ctx),
    ...gitCredentialRoutes(ctx), ...gitIoRoutes(ctx), ...projectRoutes(ctx), ...runRoutes(ctx), ...estimateRoutes(ctx), ...fileRoutes(ctx), ...historyRoutes(ctx),
    ...exportRoutes(ctx), ...screenshotRoutes(ctx), ...chatRoutes(ctx), ...previewRoutes(ctx), ...projectEnvRoutes(ctx)];
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

  app.use(observeRequests(app, ctx.logger, ctx.metrics));
  // Before everything else that answers, so errors (401, 429, 404) carry the headers too and a
  // front end can read them.
  const cors = corsMiddleware(ctx.config.cors.origins);
  if (cors) app.use(cors);

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
