import { z } from 'zod';
import { projectSchema } from './api-types.js';

/** API types of projects in and out of git: import, push and the git credentials they use. */

export const GIT_CREDENTIAL_KINDS = ['token', 'ssh-key'] as const;

export const gitCredentialSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(GIT_CREDENTIAL_KINDS),
    label: z.string().nullable(),
    username: z.string().nullable().meta({ description: 'Sent with a token over HTTPS (default "git")' }),
    masked: z.string().meta({ description: 'e.g. ghp_…abcd; the secret itself is never returned' }),
    createdAt: z.string().meta({ format: 'date-time' }),
    lastUsedAt: z.string().nullable().meta({ format: 'date-time' }),
  })
  .meta({ id: 'GitCredential' });

export const knownHostSchema = z
  .object({
    id: z.uuid(),
    host: z.string(),
    port: z.number().int(),
    keys: z.array(z.object({ type: z.string(), fingerprint: z.string().meta({ description: 'SHA256:… as ssh-keygen -l shows it' }) })),
    createdAt: z.string().meta({ format: 'date-time' }),
    lastUsedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'GitKnownHost', description: 'An SSH host whose keys the user pinned on an import or push that succeeded: later ones on that host and port need no hostKey' });
export type GitKnownHost = z.infer<typeof knownHostSchema>;

export const importResultSchema = z
  .object({
    project: projectSchema,
    import: z.object({
      files: z.number().int(),
      bytes: z.number().int(),
      skipped: z.array(z.string()).meta({ description: 'Left out: symlinks, submodules, .git/ and node_modules/' }),
    }),
  })
  .meta({ id: 'ImportResult' });

export const pushResultSchema = z
  .object({
    push: z.object({
      remote: z.string(),
      branch: z.string(),
      sha: z.string().meta({ description: 'The commit the remote branch now points at' }),
      forced: z.boolean(),
    }),
  })
  .meta({ id: 'PushResult' });

export type GitCredential = z.infer<typeof gitCredentialSchema>;
export type GitCredentialKind = GitCredential['kind'];
export type ImportResult = z.infer<typeof importResultSchema>;
export type PushResult = z.infer<typeof pushResultSchema>['push'];
