import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { ENV_NAME, MAX_ENV_VALUE_CHARS, MAX_ENV_VARS } from '../../previews/project-env.js';
import type { EnvVarInfo } from '../../previews/env-repo.js';
import { envVarsSchema } from '../../protocol/preview-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedProject } from './ownership.js';
import { projectIdParams } from './project-schemas.js';

const nameSchema = z.string().regex(ENV_NAME, 'must be a variable name: letters, digits and _, not starting with a digit (at most 128)');
const toJson = (vars: EnvVarInfo[]) => ({ vars: vars.map((v) => ({ name: v.name, updatedAt: v.updatedAt.toISOString() })) });

/** The project's environment variables (previews/project-env.ts): set and delete; names only come back. */
export function projectEnvRoutes(ctx: AppContext): AnyRoute[] {
  const env = ctx.previews.env;
  return [
    route({
      method: 'put',
      path: '/api/projects/:id/env',
      summary: "Set the project's variables (a string sets, null deletes; others are kept), encrypted at rest; given to the preview and to verify's tests",
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      body: z.object({
        vars: z
          .record(nameSchema, z.string().max(MAX_ENV_VALUE_CHARS).nullable())
          .refine((v) => Object.keys(v).length <= MAX_ENV_VARS, `at most ${MAX_ENV_VARS} variables`)
          .meta({ description: 'NAME → value (a string) or null (delete)' }),
      }),
      responses: { 200: { description: 'The names now set', schema: envVarsSchema }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, body, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        return { body: toJson(await env.update(auth!.user.id, project.id, body.vars)) };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/env',
      summary: "The project's variable names (values are never returned)",
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      responses: { 200: { description: 'Names', schema: envVarsSchema }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        return { body: toJson(await env.names(project.id)) };
      },
    }),
    route({
      method: 'delete',
      path: '/api/projects/:id/env/:name',
      summary: 'Delete one variable',
      tag: 'preview',
      auth: 'user',
      params: projectIdParams.extend({ name: nameSchema }),
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such project of the caller, or no such variable' } },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        if (!(await env.delete(project.id, params.name))) throw notFound('Variable');
        return { status: 204 };
      },
    }),
  ];
}
