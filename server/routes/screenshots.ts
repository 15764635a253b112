import { notFound } from '../../core/errors.js';
import { RunScreenshotsRepo } from '../../db/repos/run-screenshots.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { runIdParams } from './project-schemas.js';

/** The browser check's screenshot of a run's app (agents/pipeline/browser-check.ts stores it). */
export function screenshotRoutes(ctx: AppContext): AnyRoute[] {
  const screenshots = new RunScreenshotsRepo(ctx.db);
  return [
    route({
      method: 'get',
      path: '/api/projects/:id/runs/:runId/screenshot',
      summary: "The page verify's browser check loaded, as a PNG (the run's latest check)",
      tag: 'runs',
      auth: 'user',
      params: runIdParams,
      responses: {
        200: { description: 'The screenshot', contentType: 'image/png' },
        404: { description: 'No such run of the caller, or its browser check took no screenshot (no web app, or not checked yet)' },
      },
      handler: async ({ params, auth, res }) => {
        const png = await screenshots.findOwned(auth!.user.id, params.id, params.runId);
        if (!png) throw notFound('Screenshot');
        res.status(200);
        res.setHeader('Content-Type', 'image/png');
        res.setHeader('Content-Length', String(png.length));
        // A later fix round replaces it; the owner's token authorises it, so no shared cache.
        res.setHeader('Cache-Control', 'private, no-cache');
        res.end(png);
      },
    }),
  ];
}
