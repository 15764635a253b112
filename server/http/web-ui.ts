import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';

/** Paths the UI never answers: the API, the WebSocket and the operations endpoints keep their own 404s. */
const NOT_UI = /^\/(api|ws|healthz|readyz|metrics)(\/|$)/;

/** web/dist, found from the sources (server/http) or the compiled files (dist/server/http). */
export function findWebDist(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../web/dist'), path.resolve(here, '../../../web/dist')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

/**
 * Serves the web UI at `/`: hashed assets with a long cache, and index.html for every other GET
 * that is not an API path (the UI routes in the browser). Without a build, `/` says how to make one.
 */
export function mountWebUi(app: Express, dir = findWebDist()): void {
  if (!dir) {
    app.get('/', (_req, res) => {
      res.type('text/plain').send('The web UI is not built. Run `npm run build:web` (npm start does it), then reload.\n');
    });
    return;
  }
  app.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: true }));
  app.use(express.static(dir, { index: false, maxAge: 0 }));
  const index = path.join(dir, 'index.html');
  app.get(/.*/, (req, res, next) => {
    if (NOT_UI.test(req.path) || req.path.startsWith('/assets/') || !req.accepts('html')) return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
}
