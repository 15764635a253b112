import { z } from 'zod';
import { fileSchema, treeSchema } from '../../protocol/api-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedWorkspace } from './ownership.js';
import { projectIdParams } from './project-schemas.js';

// Express 5 hands a `*path` wildcard over as its segments; the workspace takes one `/`-joined path
// and refuses anything unsafe (`..`, NUL, symlinks out) itself with E_PATH_UNSAFE.
const fileParams = projectIdParams.extend({
  path: z
    .preprocess((v) => (Array.isArray(v) ? v.join('/') : v), z.string().min(1).max(4096, 'must be at most 4096 characters'))
    .meta({ description: 'Workspace-relative path, e.g. src/index.ts' }),
});

export function fileRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/projects/:id/files',
      summary: "The workspace's file tree (node_modules and .git left out; symlinks listed, never followed)",
      tag: 'files',
      auth: 'user',
      params: projectIdParams,
      responses: { 200: { description: 'Depth-first, names sorted', schema: treeSchema }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, auth }) => {
        const { workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        return { body: await workspace.files.tree() };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/files/*path',
      summary: 'One file: UTF-8 text content, or {binary: true, size}',
      tag: 'files',
      auth: 'user',
      params: fileParams,
      responses: {
        200: { description: 'The file', schema: fileSchema },
        400: { description: 'An unsafe path (E_PATH_UNSAFE)' },
        404: { description: 'No such project of the caller, or no such file' },
        413: { description: 'Larger than SAMOKODER_MAX_FILE_BYTES (E_FILE_TOO_LARGE)' },
      },
      handler: async ({ params, auth }) => {
        const { workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        return { body: await workspace.files.readFile(params.path) };
      },
    }),
  ];
}
