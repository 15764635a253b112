import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { newShareToken } from '../../previews/grants.js';
import { GRANT_PARAM, SHARE_PARAM } from '../../previews/proxy-server.js';
import { SharesRepo, type PreviewRow, type ShareRow } from '../../previews/repo.js';
import { previewSchema, shareSchema } from '../../protocol/preview-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedProject } from './ownership.js';
import { projectIdParams } from './project-schemas.js';
import { idSchema } from './schemas.js';

/** The live preview of a project (previews/): start, status, stop, share links. */
export function previewRoutes(ctx: AppContext): AnyRoute[] {
  const { manager, grants } = ctx.previews;
  const shares = new SharesRepo(ctx.db);

  async function toJson(row: PreviewRow | undefined, userId: string): Promise<z.infer<typeof previewSchema>> {
    if (!row) return { status: 'stopped', url: null, output: '', startedAt: null, commit: null };
    const running = row.status === 'running';
    const url = running ? `${ctx.previews.origin.urlFor(row.projectId)}/?${GRANT_PARAM}=${await grants.grant(userId, row.projectId, ctx.config.preview.grantTtlSeconds)}` : null;
    const output = await manager.output(row).catch(() => row.output);
    return { status: row.status, url, output, startedAt: row.startedAt.toISOString(), commit: row.commitSha };
  }

  const shareJson = (s: ShareRow, url?: string): z.infer<typeof shareSchema> => ({
    id: s.id,
    ...(url ? { url } : {}),
    expiresAt: s.expiresAt.toISOString(),
    revokedAt: s.revokedAt?.toISOString() ?? null,
    createdAt: s.createdAt.toISOString(),
  });

  return [
    route({
      method: 'post',
      path: '/api/projects/:id/preview',
      summary: "Start the app's preview (its start command in a sandbox container) and answer its URL on the preview origin",
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      responses: {
        200: { description: 'running (url set), or failed (output says why)', schema: previewSchema },
        404: { description: 'No such project of the caller' },
        409: { description: 'No start command yet (E_PREVIEW_NO_START)' },
        503: { description: 'The sandbox is off or unavailable on this node' },
      },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        return { body: await toJson(await manager.ensure(auth!.user.id, project.id), auth!.user.id) };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/preview',
      summary: "The preview's status, a fresh URL while it runs, and the end of the app's output",
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      responses: { 200: { description: 'The preview', schema: previewSchema }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        const row = await manager.get(project.id);
        if (row?.status !== 'running') manager.prepare();
        return { body: await toJson(row, auth!.user.id) };
      },
    }),
    route({
      method: 'delete',
      path: '/api/projects/:id/preview',
      summary: 'Stop the preview (its container is removed)',
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      responses: { 200: { description: 'Stopped', schema: previewSchema }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        await manager.stop(project.id, 'requested');
        return { body: await toJson(await manager.get(project.id), auth!.user.id) };
      },
    }),
    route({
      method: 'post',
      path: '/api/projects/:id/preview/share',
      summary: 'A link that opens the preview without an account, until it expires or is revoked',
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      body: z.object({
        ttlMinutes: z.number().int().min(1).max(ctx.config.preview.maxShareMinutes).meta({ description: `1..${ctx.config.preview.maxShareMinutes} (SAMOKODER_PREVIEW_MAX_SHARE_MINUTES)` }),
      }),
      responses: { 201: { description: 'The link (its url is shown only now)', schema: shareSchema }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, body, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        const { token, hash } = newShareToken();
        const share = await shares.create({ id: randomUUID(), projectId: project.id, tokenHash: hash, expiresAt: new Date(Date.now() + body.ttlMinutes * 60_000) });
        return { status: 201, body: shareJson(share, `${ctx.previews.origin.urlFor(project.id)}/?${SHARE_PARAM}=${token}`) };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/preview/share',
      summary: "The project's share links (without their URLs)",
      tag: 'preview',
      auth: 'user',
      params: projectIdParams,
      responses: { 200: { description: 'Links, newest first', schema: z.object({ shares: z.array(shareSchema) }) }, 404: { description: 'No such project of the caller' } },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        return { body: { shares: (await shares.list(project.id)).map((s) => shareJson(s)) } };
      },
    }),
    route({
      method: 'delete',
      path: '/api/projects/:id/preview/share/:shareId',
      summary: 'Revoke a share link (it stops working at once)',
      tag: 'preview',
      auth: 'user',
      params: projectIdParams.extend({ shareId: idSchema('must be a share id (a UUID)') }),
      responses: { 204: { description: 'Revoked' }, 404: { description: 'No such project of the caller, or no such link of it' } },
      handler: async ({ params, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        if (!(await shares.revoke(project.id, params.shareId.toLowerCase()))) throw notFound('Share link');
        await manager.accessChanged(project.id);
        return { status: 204 };
      },
    }),
  ];
}
