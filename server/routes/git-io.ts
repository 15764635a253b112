import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { importFromGit, importFromZip, type ImportDeps, type ImportResult } from '../../gitio/import-project.js';
import { pushProject } from '../../gitio/push-project.js';
import { importResultSchema, pushResultSchema } from '../../protocol/gitio-types.js';
import type { AppContext } from '../context.js';
import { ipKey, WindowLimiter } from '../http/rate-limit.js';
import { route, type AnyRoute } from '../http/route.js';
import { parseOrThrow } from '../http/validation.js';
import { isMultipart, receiveZipUpload } from '../http/zip-upload.js';
import { ownedWorkspace } from './ownership.js';
import { projectIdParams, toProjectJson } from './project-schemas.js';
import { idSchema } from './schemas.js';

const name = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const credentialId = idSchema('must be a git credential id (a UUID)');
const hostKey = z
  .string()
  .min(1, 'must not be empty')
  .max(16_384, 'must be at most 16384 characters')
  .meta({ description: "ssh only: the server's host key as ssh-keyscan prints it (\"ssh-ed25519 AAAA…\") or its fingerprint (\"SHA256:…\"), one per line; the connection is refused unless the server shows it. Not needed for github.com" });

const gitImportBody = z.object({
  gitUrl: z.string().min(1, 'must not be empty').meta({ description: 'https://, http://, ssh://, git:// or user@host:path; no credentials inside' }),
  ref: z.string().min(1).max(255).optional().meta({ description: 'A branch or tag (default: the remote default branch); cloned shallow' }),
  credentialId: credentialId.optional(),
  hostKey: hostKey.optional(),
  name: name.optional().meta({ description: "Default: the repository's name" }),
});

const zipFields = z.object({ name: name.optional() });

const pushBody = z.object({
  remoteUrl: z.string().min(1, 'must not be empty'),
  branch: z.string().min(1, 'must not be empty').max(255),
  credentialId: credentialId.optional(),
  hostKey: hostKey.optional(),
  force: z.boolean().optional().meta({ description: 'Overwrite the remote branch even when it has commits this history lacks' }),
});

/** Import (a git URL or a ZIP upload) and push: the work is in gitio/, these only parse and answer. */
export function gitIoRoutes(ctx: AppContext): AnyRoute[] {
  const deps: ImportDeps = { db: ctx.db, workspaces: ctx.workspaces, config: ctx.config, vault: ctx.llm.vault, logger: ctx.logger };
  // A clone or push can move hundreds of megabytes: limited like run starts, in a window of their own.
  const { perUser, perIp, windowSeconds } = ctx.config.generateRateLimit;
  const userLimit = new WindowLimiter({ max: perUser, windowSeconds, clock: ctx.clock, what: 'imports and pushes by this account' });
  const ipLimit = new WindowLimiter({ max: perIp, windowSeconds, clock: ctx.clock, what: 'imports and pushes from this address' });
  const limit = (userId: string, ip: string | undefined) => {
    userLimit.hit(userId);
    ipLimit.hit(ipKey(ip));
  };
  const answer = (userId: string, r: ImportResult) => {
    ctx.projectLists.drop(userId);
    return { status: 201, body: { project: toProjectJson(r.project), import: { files: r.files, bytes: r.bytes, skipped: r.skipped } } };
  };
  return [
    route({
      method: 'post',
      path: '/api/projects/import',
      summary:
        'Import a project: JSON {gitUrl, ref?, credentialId?, hostKey?, name?} clones a repository (shallow); multipart/form-data with a ZIP in the field "file" (and optionally "name") unpacks it. Its history starts with one "Imported" commit, and every run on it is a change request.',
      tag: 'git',
      auth: 'user',
      responses: {
        201: { description: 'Imported', schema: importResultSchema },
        400: { description: 'A refused URL (E_GIT_URL), an untrusted ssh host key (E_GIT_HOST_KEY), a credential the server refused (E_GIT_AUTH), an unsafe ZIP entry (E_IMPORT_UNSAFE) or invalid input (E_VALIDATION); nothing kept' },
        402: { description: "The plan's max_projects is reached (E_LIMIT)" },
        404: { description: 'No such git credential of the caller' },
        413: { description: 'Over the size or file-count limit (E_IMPORT_TOO_LARGE); nothing kept' },
        429: { description: 'Too many imports and pushes (E_RATE_LIMITED, Retry-After)' },
        502: { description: 'The git server failed or has no such repository or ref (E_GIT_REMOTE)' },
      },
      handler: async ({ req, auth }) => {
        const owner = { userId: auth!.user.id, planId: auth!.user.planId };
        limit(owner.userId, req.ip);
        if (isMultipart(req)) {
          const upload = await receiveZipUpload(req, ctx.config.gitio.importMaxBytes);
          try {
            const fields = parseOrThrow(zipFields, upload.fields, 'body');
            return answer(owner.userId, await importFromZip(deps, owner, { file: upload.file, fileName: upload.fileName, name: fields.name }));
          } finally {
            await upload.cleanup();
          }
        }
        if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
          throw new AppError('E_VALIDATION', 'Invalid body. Send JSON {"gitUrl": …} with Content-Type: application/json, or a ZIP as multipart/form-data in the field "file".');
        }
        const body = parseOrThrow(gitImportBody, req.body, 'body');
        return answer(owner.userId, await importFromGit(deps, owner, body));
      },
    }),
    route({
      method: 'post',
      path: '/api/projects/:id/push',
      summary: "Push the project's history (its latest commit) to a branch of any git remote; the credential is used for this push only",
      tag: 'git',
      auth: 'user',
      params: projectIdParams,
      body: pushBody,
      responses: {
        200: { description: 'Pushed', schema: pushResultSchema },
        400: { description: 'A refused URL (E_GIT_URL), an untrusted ssh host key (E_GIT_HOST_KEY), a credential the server refused (E_GIT_AUTH) or invalid input (E_VALIDATION)' },
        404: { description: 'No such project or git credential of the caller' },
        409: { description: 'The remote branch has commits this history lacks (E_PUSH_REJECTED): send force: true to overwrite' },
        429: { description: 'Too many imports and pushes (E_RATE_LIMITED, Retry-After)' },
        502: { description: 'The git server failed (E_GIT_REMOTE)' },
      },
      handler: async ({ params, body, auth, req }) => {
        const { workspace } = await ownedWorkspace(ctx, params.id, auth!.user.id);
        limit(auth!.user.id, req.ip);
        return { body: { push: await pushProject(deps, auth!.user.id, workspace, body) } };
      },
    }),
  ];
}
