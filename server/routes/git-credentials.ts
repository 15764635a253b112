import { z } from 'zod';
import { notFound } from '../../core/errors.js';
import { GitCredentialsRepo, type GitCredentialInfo } from '../../db/repos/git-credentials.js';
import { storeGitCredential } from '../../keys/git-credentials.js';
import { KnownHostsRepo, keyFingerprints } from '../../gitio/known-hosts.js';
import { GIT_CREDENTIAL_KINDS, gitCredentialSchema, knownHostSchema } from '../../protocol/gitio-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { idSchema } from './schemas.js';

const SSH_KEY = /^-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=:,\-\s]+\r?\n-----END ([A-Z0-9]+ )*PRIVATE KEY-----\s*$/;

const createBody = z
  .object({
    kind: z.enum(GIT_CREDENTIAL_KINDS).meta({ description: 'token: an access token or password for https:// remotes; ssh-key: an unencrypted private key for ssh remotes' }),
    secret: z.string().min(1, 'must not be empty').max(16_384, 'must be at most 16384 characters'),
    label: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
    username: z
      .string()
      .regex(/^[A-Za-z0-9._@+-]{1,100}$/, 'must be 1-100 letters, digits or . _ @ + -')
      .optional()
      .meta({ description: 'The account name sent with a token (default "git"; GitHub ignores it, GitLab and Gitea want the account or "oauth2")' }),
  })
  .superRefine((b, ctx) => {
    if (b.kind === 'token' && !/^[\x21-\x7e]{1,1024}$/.test(b.secret)) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a token must be 1-1024 printable ASCII characters without spaces or line breaks' });
    }
    if (b.kind === 'ssh-key' && !SSH_KEY.test(b.secret)) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'must be a private key in PEM or OpenSSH form (-----BEGIN OPENSSH PRIVATE KEY----- … -----END OPENSSH PRIVATE KEY-----)' });
    }
    if (b.kind === 'ssh-key' && b.username !== undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'is for tokens; an ssh URL names its user (git@host:…)' });
  });

const idParams = z.object({ id: idSchema('must be a git credential id (a UUID)') });
const knownHostParams = z.object({ id: idSchema('must be a known host id (a UUID)') });

const toJson = (c: GitCredentialInfo) => ({
  id: c.id,
  kind: c.kind,
  label: c.label,
  username: c.username,
  masked: c.masked,
  createdAt: c.createdAt.toISOString(),
  lastUsedAt: c.lastUsedAt?.toISOString() ?? null,
});

/** Git credentials (tokens, SSH keys) for import and push: sealed like API keys, listed masked; and the SSH hosts the user confirmed. */
export function gitCredentialRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/user/git-credentials',
      summary: 'Store a git credential (a token or an SSH private key), encrypted; only its masked form is ever returned',
      tag: 'git',
      auth: 'user',
      body: createBody,
      responses: {
        201: { description: 'Stored', schema: gitCredentialSchema },
        400: { description: 'Invalid input (E_VALIDATION); nothing stored' },
      },
      handler: async ({ body, auth }) => {
        const stored = await storeGitCredential(ctx.db, ctx.llm.vault, { userId: auth!.user.id, kind: body.kind, secret: body.secret, label: body.label, username: body.username });
        ctx.logger.info({ userId: auth!.user.id, credentialId: stored.id, kind: stored.kind, masked: stored.masked }, 'git credential stored');
        return { status: 201, body: toJson(stored) };
      },
    }),
    route({
      method: 'get',
      path: '/api/user/git-credentials',
      summary: "The caller's git credentials, masked",
      tag: 'git',
      auth: 'user',
      responses: { 200: { description: 'Newest first', schema: z.object({ credentials: z.array(gitCredentialSchema) }) } },
      handler: async ({ auth }) => ({ body: { credentials: (await new GitCredentialsRepo(ctx.db).list(auth!.user.id)).map(toJson) } }),
    }),
    route({
      method: 'delete',
      path: '/api/user/git-credentials/:id',
      summary: "Delete one of the caller's git credentials",
      tag: 'git',
      auth: 'user',
      params: idParams,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such credential owned by the caller' } },
      handler: async ({ params, auth }) => {
        if (!(await new GitCredentialsRepo(ctx.db).delete(auth!.user.id, params.id))) throw notFound('Git credential');
        return { status: 204 };
      },
    }),
    route({
      method: 'get',
      path: '/api/user/git-known-hosts',
      summary: "The SSH hosts whose keys the caller confirmed (pinned on an import or push that succeeded)",
      tag: 'git',
      auth: 'user',
      responses: { 200: { description: 'By host and port', schema: z.object({ knownHosts: z.array(knownHostSchema) }) } },
      handler: async ({ auth }) => ({
        body: {
          knownHosts: (await new KnownHostsRepo(ctx.db).list(auth!.user.id)).map((h) => ({
            id: h.id, host: h.host, port: h.port, keys: keyFingerprints(h.keys), createdAt: h.createdAt.toISOString(), lastUsedAt: h.lastUsedAt.toISOString(),
          })),
        },
      }),
    }),
    route({
      method: 'delete',
      path: '/api/user/git-known-hosts/:id',
      summary: 'Forget a known SSH host: the next import or push to it needs hostKey again',
      tag: 'git',
      auth: 'user',
      params: knownHostParams,
      responses: { 204: { description: 'Forgotten' }, 404: { description: 'No such known host of the caller' } },
      handler: async ({ params, auth }) => {
        if (!(await new KnownHostsRepo(ctx.db).forget(auth!.user.id, params.id))) throw notFound('Known host');
        return { status: 204 };
      },
    }),
  ];
}
