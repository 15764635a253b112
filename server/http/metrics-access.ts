import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AppError } from '../../core/errors.js';
import { isLoopbackHost } from '../../core/net/loopback.js';

/**
 * Who may read /metrics (route and process details an outsider should not map): with
 * SAMOKODER_METRICS_TOKEN set, a scraper sending it as a bearer token (Prometheus'
 * `authorization: {credentials: …}`); without one, anyone when the server listens on loopback
 * only, and nobody when it listens beyond it.
 */
export function metricsAccess(options: { host: string; token: string | undefined }): (req: Pick<Request, 'headers'>) => void {
  const { host, token } = options;
  if (token === undefined) {
    if (isLoopbackHost(host)) return () => undefined;
    return () => {
      throw new AppError('E_FORBIDDEN', `/metrics is closed: the server listens on ${host}, beyond loopback. Set SAMOKODER_METRICS_TOKEN and scrape with that bearer token.`);
    };
  }
  // Compared as digests: equal lengths for timingSafeEqual, whatever was sent.
  const expected = digest(token);
  return (req) => {
    const sent = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (sent === undefined || !timingSafeEqual(digest(sent), expected)) {
      throw new AppError('E_AUTH', '/metrics needs Authorization: Bearer <SAMOKODER_METRICS_TOKEN>.');
    }
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
