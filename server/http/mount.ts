import type { Express, NextFunction, Request, Response } from 'express';
import { AppError } from '../../core/errors.js';
import type { AppContext } from '../context.js';
import { authenticateToken, bearerToken } from './authenticate.js';
import type { AnyRoute, AuthContext } from './route.js';
import { SerializedJson } from './serialized-json.js';
import { parseOrThrow } from './validation.js';

async function authorize(ctx: AppContext, r: AnyRoute, req: Request): Promise<AuthContext | undefined> {
  if (r.auth === 'none') return undefined;
  const token = bearerToken(req);
  if (!token) throw new AppError('E_AUTH', 'This route needs a bearer token: send Authorization: Bearer <token> (from POST /api/auth/login).');
  const auth = await authenticateToken(ctx, token);
  if (r.auth === 'admin' && auth.user.role !== 'admin') throw new AppError('E_FORBIDDEN', 'This route is for administrators.');
  return auth;
}

/** Mounts each route of the table: authenticate, validate params/query/body, run, reply. */
export function mountRoutes(app: Express, ctx: AppContext, routes: readonly AnyRoute[]): void {
  for (const r of routes) {
    app[r.method](r.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const auth = await authorize(ctx, r, req);
        const params = r.params ? parseOrThrow(r.params, req.params, 'path parameters') : undefined;
        const query = r.query ? parseOrThrow(r.query, req.query, 'query') : undefined;
        let body: unknown;
        if (r.body) {
          if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
            throw new AppError('E_VALIDATION', 'Invalid body. Send a JSON object with Content-Type: application/json.');
          }
          body = parseOrThrow(r.body, req.body, 'body');
        }
        const result = await r.handler({ body, params, query, auth, req, res });
        if (res.headersSent || res.writableEnded) return;
        for (const [k, v] of Object.entries(result?.headers ?? {})) res.setHeader(k, v);
        const status = result?.status ?? 200;
        if (result?.body === undefined) res.status(status).end();
        else if (result.body instanceof SerializedJson) res.status(status).type('json').set('ETag', result.body.etag).send(result.body.bytes);
        else res.status(status).json(result.body);
      } catch (err) {
        next(err);
      }
    });
  }
}
