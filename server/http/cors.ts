import cors from 'cors';
import type { RequestHandler } from 'express';

/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for browser front ends on the listed origins (SAMOKODER_CORS_ORIGINS, validated exact
 * origins; `*` is refused by the configuration). A listed Origin is echoed with `Vary: Origin`;
 * any other gets no CORS headers at all (the browser then blocks the page, while the request
 * itself still works for non-browser clients, which send no Origin or ignore CORS). Credentials
 * are bearer tokens in the Authorization header, never cookies, so Allow-Credentials is not sent.
 * Undefined when no origin is listed: same-origin only, no CORS headers.
 */
export function corsMiddleware(origins: readonly string[]): RequestHandler | undefined {
  if (!origins.length) return undefined;
  const allowed = new Set(origins);
  const handler = cors({
    origin: [...allowed],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'Content-Disposition'],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && allowed.has(origin)) return handler(req, res, next);
    // A cache must not serve one origin's answer to another.
    res.vary('Origin');
    next();
  };
}

/** Whether a WebSocket upgrade's Origin may open a socket: none (CLI), the service's own, or listed. */
export function isAllowedSocketOrigin(origin: string | undefined, host: string | undefined, origins: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (origins.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
