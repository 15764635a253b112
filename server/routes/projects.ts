import { z } from 'zod';
import { urlRefusal } from '../../webhooks/target-guard.js';
import { AppError, notFound } from '../../core/errors.js';
import { PlansRepo } from '../../db/repos/plans.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { SerializedJson } from '../http/serialized-json.js';
import { ownedProject } from './ownership.js';
import { pageQuery, projectIdParams, projectSchema, toProjectJson } from './project-schemas.js';

const MAX_PROMPT_CHARS = 20_000;

const createBody = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional().meta({ description: "Default: the prompt's first line" }),
  prompt: z.string().trim().min(1, 'must not be empty').max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`),
});

const webhookBody = z.object({
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .max(2048, 'must be at most 2048 characters')
    .nullable()
    .meta({ description: 'null removes the webhook' }),
});

/** A name from the prompt when none is given: its first line, cut at a word near 60 characters. */
function nameFromPrompt(prompt: string): string {
  const line = prompt.split('\n', 1)[0]!.trim();
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  return `${cut.slice(0, cut.lastIndexOf(' ') > 30 ? cut.lastIndexOf(' ') : 60)}…`;
}

/** The owner's plan's workspace quota; undefined: the node's default. */
async function workspaceQuotaBytes(ctx: AppContext, planId: string): Promise<number | undefined> {
  const mb = (await new PlansRepo(ctx.db).get(planId))?.maxWorkspaceMb;
  return mb ? mb * 1024 * 1024 : undefined;
}

export function projectRoutes(ctx: AppContext): AnyRoute[] {
  const projects = new ProjectsRepo(ctx.db);
  return [
    route({
      method: 'post',
      path: '/api/projects',
      summary: 'Create a project (and its empty workspace); the plan’s project count is enforced',
      tag: 'projects',
      auth: 'user',
      body: createBody,
      responses: {
        201: { description: 'Created', schema: z.object({ project: projectSchema }) },
        402: { description: 'The plan’s max_projects is reached (E_LIMIT)' },
        503: { description: 'The server is low on disk space (E_DISK_RESERVE)' },
      },
      handler: async ({ body, auth }) => {
        await ctx.workspaces.checkReserve?.();
        const quotaBytes = await workspaceQuotaBytes(ctx, auth!.user.planId);
        const project = await projects.create({ userId: auth!.user.id, name: body.name ?? nameFromPrompt(body.prompt), prompt: body.prompt });
        try {
          await ctx.workspaces.create(project.id, { quotaBytes });
        } catch (err) {
          // A project without a workspace is unusable: undo the row (and a half-made volume) rather than leave a husk.
          await projects.delete(project.id, auth!.user.id).catch(() => undefined);
          await ctx.workspaces.remove(project.id).catch(() => undefined);
          throw err;
        }
        ctx.projectLists.drop(auth!.user.id);
        return { status: 201, body: { project: toProjectJson(project) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects',
      summary: "The caller's projects, newest first (cursor pagination)",
      tag: 'projects',
      auth: 'user',
      query: pageQuery,
      responses: { 200: { description: 'A page', schema: z.object({ projects: z.array(projectSchema), nextCursor: z.string().nullable() }) } },
      handler: async ({ query, auth }) => {
        const userId = auth!.user.id;
        const now = ctx.clock.now();
        const pageKey = `${query.limit ?? ''}\u0000${query.cursor ?? ''}`;
        const cached = ctx.projectLists.get(userId, pageKey, now);
        if (cached !== undefined) return { body: cached };
        const generation = ctx.projectLists.currentGeneration;
        const page = await projects.list(userId, query);
        const body = new SerializedJson({ projects: page.items.map(toProjectJson), nextCursor: page.nextCursor });
        ctx.projectLists.remember(userId, pageKey, { body, projectIds: page.items.map((p) => p.id) }, generation, now);
        return { body };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id',
      summary: 'One project',
      tag: 'projects',
      auth: 'user',
      params: projectIdParams,
      responses: { 200: { description: 'The project', schema: z.object({ project: projectSchema }) }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, auth }) => ({ body: { project: toProjectJson(await ownedProject(ctx, params.id, auth!.user.id)) } }),
    }),
    route({
      method: 'delete',
      path: '/api/projects/:id',
      summary: 'Delete a project: stops its run, removes its sandbox containers and workspace; usage rows are kept',
      tag: 'projects',
      auth: 'user',
      params: projectIdParams,
      responses: {
        204: { description: 'Deleted' },
        404: { description: 'No such project of the caller' },
        503: { description: 'Its sandbox containers could not be removed (E_SANDBOX_UNAVAILABLE); nothing was deleted, retry later' },
      },
      handler: async ({ params, auth }) => {
        await ctx.lifecycle.deleteProject(params.id, auth!.user.id);
        return { status: 204 };
      },
    }),
    route({
      method: 'put',
      path: '/api/projects/:id/webhook',
      summary: 'Set (or with url null, remove) the webhook called when a run finishes; returns its signing secret',
      tag: 'projects',
      auth: 'user',
      params: projectIdParams,
      body: webhookBody,
      responses: {
        200: {
          description: 'Set; the secret signs each delivery (HMAC-SHA256) and is kept across URL changes',
          schema: z.object({ project: projectSchema, secret: z.string().nullable() }),
        },
        400: { description: 'Not an http(s) URL, or its host is a loopback, private or non-public address (E_WEBHOOK_TARGET)' },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, body, auth }) => {
        // Only what the URL itself says (a literal IP, localhost); names are checked on what they
        // resolve to at each delivery, where DNS cannot answer differently than at the check.
        const refusal = body.url === null ? undefined : urlRefusal(new URL(body.url), ctx.config.webhooks.allowPrivate);
        if (refusal !== undefined) throw new AppError('E_WEBHOOK_TARGET', `url: refused, ${refusal}`);
        const res = await projects.setWebhook(params.id, auth!.user.id, { url: body.url });
        if (!res) throw notFound('Project');
        ctx.projectLists.drop(auth!.user.id);
        return { body: { project: toProjectJson(res.project), secret: res.secret } };
      },
    }),
  ];
}
