import { AppError } from '../core/errors.js';
import type { Database } from '../db/port.js';
import { openSealed, type SecretOwner } from '../keys/sealed-secrets.js';
import type { Vault } from '../keys/vault.js';
import { ProjectEnvRepo, type EnvVarInfo } from './env-repo.js';

/**
 * A project's environment variables (`PUT /api/projects/:id/env`): the app's own secrets
 * (a database URL, a payment key), sealed with the vault like BYOK keys, given to the app's
 * preview and to verify's test command in the sandbox, and nowhere else: never written to the
 * workspace (so never in a commit or an export), an event, a log line or a prompt. Command output
 * that echoes a value is scrubbed (scrubSecrets) before it becomes an event or reaches the fixer.
 */

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Set by the sandbox or the preview itself; a project variable must not override them. */
export const RESERVED_ENV_NAMES = new Set(['PORT', 'HOST', 'HOME', 'PATH', 'LANG', 'NODE_EXTRA_CA_CERTS', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'npm_config_proxy', 'npm_config_https_proxy']);
export const MAX_ENV_VARS = 100;
export const MAX_ENV_VALUE_CHARS = 32 * 1024;

/** A value is sealed to the project's owner too (and to its project and name): moved elsewhere, it does not decrypt. */
const sealedTo = (userId: string): SecretOwner => ({ userId, provider: 'project-env' });

export class ProjectEnv {
  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
  ) {}

  names(projectId: string): Promise<EnvVarInfo[]> {
    return new ProjectEnvRepo(this.db).list(projectId);
  }

  /** Sets each variable given a string and deletes each given null, in one transaction. */
  async update(userId: string, projectId: string, vars: Record<string, string | null>): Promise<EnvVarInfo[]> {
    for (const name of Object.keys(vars)) {
      if (RESERVED_ENV_NAMES.has(name)) throw new AppError('E_VALIDATION', `vars.${name}: ${name} is set by Samokoder itself; choose another name`);
    }
    return this.db.transaction(async (tx) => {
      const repo = new ProjectEnvRepo(tx);
      for (const [name, value] of Object.entries(vars)) {
        if (value === null) await repo.delete(projectId, name);
        else await repo.store(this.vault, sealedTo(userId), { project_id: projectId, name }, value);
      }
      const names = await repo.list(projectId);
      if (names.length > MAX_ENV_VARS) throw new AppError('E_VALIDATION', `vars: a project may have at most ${MAX_ENV_VARS} variables; delete some first`);
      return names;
    });
  }

  delete(projectId: string, name: string): Promise<boolean> {
    return new ProjectEnvRepo(this.db).delete(projectId, name);
  }

  /** The plaintext values, for the sandbox only (a preview's start, verify's test command). */
  async open(userId: string, projectId: string): Promise<Record<string, string>> {
    const rows = await new ProjectEnvRepo(this.db).sealed(projectId);
    return Object.fromEntries(rows.map((r) => [r.name, openSealed(this.vault, sealedTo(userId), r)]));
  }
}

/** Replaces every value of `secrets` (4 characters or longer) in `text` with `[NAME]`. */
export function scrubSecrets(text: string, secrets: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length >= 4 && out.includes(value)) out = out.split(value).join(`[${name}]`);
  }
  return out;
}
