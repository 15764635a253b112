import { randomUUID } from 'node:crypto';
import { notFound } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { GitCredentialsRepo, type GitCredentialInfo, type GitCredentialKind } from '../db/repos/git-credentials.js';
import { maskSecret } from './mask.js';
import { openSealed, type SecretOwner } from './sealed-secrets.js';
import type { Vault } from './vault.js';

/** A credential ready for one git operation; `secret` lives only in memory (and a temp file for an SSH key). */
export interface GitSecret {
  kind: GitCredentialKind;
  username: string | null;
  secret: string;
}

const sealedTo = (userId: string, kind: GitCredentialKind): SecretOwner => ({ userId, provider: `git-${kind}` });

/** An SSH key is shown by its type and the last characters of its body, never its first line. */
function maskCredential(kind: GitCredentialKind, secret: string): string {
  if (kind === 'token') return maskSecret(secret);
  const body = secret.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return `ssh-key …${body.slice(-8, -4)}`;
}

/** Seals a git credential like a BYOK key (keys/vault.ts); the row id is chosen first, as it is part of the AAD. */
export async function storeGitCredential(
  db: Queryable,
  vault: Vault,
  input: { userId: string; kind: GitCredentialKind; secret: string; label?: string | undefined; username?: string | undefined },
): Promise<GitCredentialInfo> {
  return new GitCredentialsRepo(db).store(
    vault,
    sealedTo(input.userId, input.kind),
    {
      id: randomUUID(),
      user_id: input.userId,
      kind: input.kind,
      label: input.label ?? null,
      username: input.username ?? null,
      masked: maskCredential(input.kind, input.secret),
    },
    input.secret,
  );
}

/** The caller's credential, decrypted for one operation; E_NOT_FOUND when it is not theirs. */
export async function openGitCredential(db: Queryable, vault: Vault, userId: string, id: string): Promise<GitSecret> {
  const row = await new GitCredentialsRepo(db).useWithEnvelope(userId, id);
  if (!row) throw notFound('Git credential');
  return { kind: row.kind, username: row.username, secret: openSealed(vault, sealedTo(userId, row.kind), row) };
}
