import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { PlansRepo } from '../db/repos/plans.js';
import { ProjectsRepo, type Project } from '../db/repos/projects.js';
import { openGitCredential } from '../keys/git-credentials.js';
import type { Vault } from '../keys/vault.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { cloneChecked } from './clone.js';
import { KnownHostsRepo } from './known-hosts.js';
import { withRemoteSession } from './remote-session.js';
import { assertRefName, gitPolicy, parseGitUrl } from './remote-url.js';
import { checkZip, type ImportLimits } from './zip-import.js';

export interface ImportDeps {
  readonly db: Database;
  readonly workspaces: WorkspaceStore;
  readonly config: Config;
  readonly vault: Vault;
  readonly logger: Logger;
}

export interface ImportResult {
  readonly project: Project;
  readonly files: number;
  readonly bytes: number;
  /** Left out: symlinks, submodules, `.git/`, `node_modules/`. */
  readonly skipped: readonly string[];
}

interface Owner {
  readonly userId: string;
  readonly planId: string;
}

/** The plan's workspace quota (or the node's default), and the import caps: the smaller wins. */
async function limitsFor(deps: ImportDeps, planId: string): Promise<ImportLimits & { quotaBytes: number | undefined }> {
  const mb = (await new PlansRepo(deps.db).get(planId))?.maxWorkspaceMb;
  const quotaBytes = mb ? mb * 1024 * 1024 : undefined;
  const { quota } = deps.config.workspaces;
  const workspaceBytes = quota.setting === 'off' ? Infinity : (quotaBytes ?? quota.defaultBytes);
  return { maxBytes: Math.min(deps.config.gitio.importMaxBytes, workspaceBytes), maxFiles: deps.config.gitio.importMaxFiles, quotaBytes };
}

/**
 * A project row and its workspace whose first commit holds what `fill` writes. Anything failing
 * (the plan's project limit, a file the checks missed, a full disk) removes both: an import
 * leaves a whole project or nothing.
 */
async function createImported(deps: ImportDeps, owner: Owner, input: { name: string; importedFrom: string; message: string; quotaBytes: number | undefined; fill: (dir: string) => Promise<void> }): Promise<Project> {
  await deps.workspaces.checkReserve?.();
  const projects = new ProjectsRepo(deps.db);
  const project = await projects.create({ userId: owner.userId, name: input.name, prompt: `Imported from ${input.importedFrom}`, importedFrom: input.importedFrom });
  try {
    await deps.workspaces.create(project.id, { ...(input.quotaBytes === undefined ? {} : { quotaBytes: input.quotaBytes }), seed: { message: input.message, fill: input.fill } });
  } catch (err) {
    await projects.delete(project.id, owner.userId).catch(() => undefined);
    await deps.workspaces.remove(project.id).catch(() => undefined);
    throw err;
  }
  return project;
}

/** Imports a git repository's `ref` (default branch) as a new project of one "Imported" commit. */
export async function importFromGit(deps: ImportDeps, owner: Owner, input: { gitUrl: string; ref?: string | undefined; credentialId?: string | undefined; hostKey?: string | undefined; name?: string | undefined }): Promise<ImportResult> {
  const remote = parseGitUrl(input.gitUrl, gitPolicy(deps.config.gitio.allowPrivate));
  if (input.ref !== undefined) assertRefName(input.ref, 'ref');
  const credential = input.credentialId === undefined ? undefined : await openGitCredential(deps.db, deps.vault, owner.userId, input.credentialId);
  const limits = await limitsFor(deps, owner.planId);
  const knownHosts = new KnownHostsRepo(deps.db);
  const hostKey = await knownHosts.pinFor(owner.userId, remote, input.hostKey);
  return withRemoteSession(remote, { credential, hostKey }, gitPolicy(deps.config.gitio.allowPrivate), async (session) => {
    const clone = await cloneChecked(session, remote, input.ref, { ...limits, timeoutMs: deps.config.gitio.timeoutMs });
    const importedFrom = input.ref ? `${remote.display}#${input.ref}` : remote.display;
    const project = await createImported(deps, owner, {
      name: input.name ?? remote.repoName,
      importedFrom,
      message: `Imported from ${importedFrom} at ${clone.sha}`,
      quotaBytes: limits.quotaBytes,
      fill: (dir) => clone.checkoutTo(dir),
    });
    deps.logger.info({ userId: owner.userId, projectId: project.id, from: remote.display, sha: clone.sha, files: clone.files, bytes: clone.bytes }, 'project imported from git');
    if (input.hostKey !== undefined) await knownHosts.remember(owner.userId, remote, session.hostKeys);
    return { project, files: clone.files, bytes: clone.bytes, skipped: clone.skipped };
  });
}

/** Imports an uploaded ZIP (already on disk at `file`) as a new project of one "Imported" commit. */
export async function importFromZip(deps: ImportDeps, owner: Owner, input: { file: string; fileName: string; name?: string | undefined }): Promise<ImportResult> {
  const limits = await limitsFor(deps, owner.planId);
  const zip = await checkZip(input.file, limits);
  try {
    const importedFrom = `zip:${input.fileName}`;
    const project = await createImported(deps, owner, {
      name: input.name ?? (input.fileName.replace(/\.zip$/i, '') || 'imported'),
      importedFrom,
      message: `Imported from ${input.fileName}`,
      quotaBytes: limits.quotaBytes,
      fill: (dir) => zip.extractTo(dir),
    });
    deps.logger.info({ userId: owner.userId, projectId: project.id, from: importedFrom, files: zip.files, bytes: zip.bytes }, 'project imported from a ZIP');
    return { project, files: zip.files, bytes: zip.bytes, skipped: zip.skipped };
  } finally {
    zip.close();
  }
}
