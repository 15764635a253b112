import { z } from 'zod';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedWorkspace } from './ownership.js';
import { projectIdParams } from './project-schemas.js';

const exportQuery = z.object({
  git: z.enum(['0', '1', 'true', 'false']).optional().meta({ description: '1: include the git history as .git/' }),
});

/**
 * GET and POST (older clients POST) stream the same deterministic ZIP. The archive goes straight
 * into the response (never buffered); when the client disconnects, the response closes and
 * exportZip, which watches its destination's 'close', stops reading files (E_CANCELLED, no log noise: errorHandler only logs 5xx).
 */
export function exportRoutes(ctx: AppContext): AnyRoute[] {
  return (['get', 'post'] as const).map((method) =>
    route({
      method,
      path: '/api/projects/:id/export',
      summary: 'Download the workspace as a ZIP (no node_modules, no .git unless ?git=1, symlinks never followed)',
      tag: 'export',
      auth: 'user',
      params: projectIdParams,
      query: exportQuery,
      responses: {
        200: { description: 'The ZIP, streamed; Content-Disposition names it <project-slug>.zip', contentType: 'application/zip' },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, query, auth, req, res }) => {
        const { project, workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        res.status(200);
        res.setHeader('Content-Type', 'application/zip');
        res.setHeader('Content-Disposition', `attachment; filename="${project.slug}.zip"`);
        res.setHeader('Cache-Control', 'no-store');
        const result = await workspace.exportZip(res, { includeGit: query.git === '1' || query.git === 'true' });
        req.log.debug({ projectId: project.id, entries: result.entries, bytes: result.bytes }, 'export sent');
      },
    }),
  );
}
