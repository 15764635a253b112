import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { RunsRepo } from '../../runs/runs-repo.js';
import { commitSchema, diffSchema } from '../../protocol/api-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedWorkspace } from './ownership.js';
import { projectIdParams } from './project-schemas.js';

const sha = z.string().regex(/^[0-9a-f]{4,64}$/i, 'must be a commit sha (4 to 64 hex digits)');

export function historyRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/projects/:id/history',
      summary: 'The steps as commits, newest first',
      tag: 'history',
      auth: 'user',
      params: projectIdParams,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(1000).optional().meta({ description: '1..1000, default 100' }),
        offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
      }),
      responses: { 200: { description: 'Commits', schema: z.object({ commits: z.array(commitSchema) }) }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, query, auth }) => {
        const { workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        return { body: { commits: await workspace.history.history(query) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/diff',
      summary: 'The diff between two commits of the project',
      tag: 'history',
      auth: 'user',
      params: projectIdParams,
      query: z.object({ from: sha, to: sha }),
      responses: { 200: { description: 'The diff', schema: diffSchema }, 404: { description: 'No such project of the caller, or an unknown sha' } },
      handler: async ({ params, query, auth }) => {
        const { workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        return { body: await workspace.history.diff(query.from, query.to) };
      },
    }),
    route({
      method: 'post',
      path: '/api/projects/:id/revert',
      summary: 'Revert the workspace to an earlier commit as a new commit (later history is kept)',
      tag: 'history',
      auth: 'user',
      params: projectIdParams,
      body: z.object({ to: sha }),
      responses: {
        201: { description: 'The new commit', schema: z.object({ sha: z.string() }) },
        404: { description: 'No such project of the caller, or an unknown sha' },
        409: { description: 'A run of the project is queued or running (E_CONFLICT): cancel it or wait' },
      },
      handler: async ({ params, body, auth }) => {
        const { project, workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        // A run commits step by step into this workspace; a revert under it would be overwritten
        // by its next step, or break the step it is in. Active runs are the newest ones.
        const recent = await new RunsRepo(ctx.db).listByProject(params.id, auth!.user.id, { limit: 100 });
        if (recent.items.some((r) => r.status === 'queued' || r.status === 'running')) {
          throw new AppError('E_CONFLICT', 'A run of this project is queued or running; cancel it or wait for it to finish before reverting.');
        }
        const sha = await workspace.history.revert(body.to);
        // A running preview restarts on the reverted files (in the background: the revert is done).
        void ctx.previews.manager.refresh(project.id).catch((err: unknown) => ctx.logger.warn({ err }, 'preview: restart after a revert failed'));
        return { status: 201, body: { sha } };
      },
    }),
  ];
}
