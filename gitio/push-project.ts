import { AppError } from '../core/errors.js';
import { openGitCredential } from '../keys/git-credentials.js';
import type { Workspace } from '../workspaces/index.js';
import { runGit } from './git-process.js';
import type { ImportDeps } from './import-project.js';
import { KnownHostsRepo } from './known-hosts.js';
import { remoteFailure, withRemoteSession } from './remote-session.js';
import { assertRefName, gitPolicy, parseGitUrl } from './remote-url.js';

export interface PushResult {
  readonly remote: string;
  readonly branch: string;
  /** The commit the remote branch now points at. */
  readonly sha: string;
  readonly forced: boolean;
}

/** porcelain: `!<TAB>src:dst<TAB>[rejected] (non-fast-forward)` or `(fetch first)` when the remote has commits we lack. */
const NON_FAST_FORWARD = /^!\t[^\t]*\t\[rejected\] \((non-fast-forward|fetch first|stale info)\)/m;

/**
 * Pushes the project's history (its HEAD) to `branch` of any git remote. The URL and credential
 * are given to this one git command only: no remote is added, nothing is written to the
 * repository's config. Without `force` a push that would drop remote commits is refused by git
 * itself (E_PUSH_REJECTED); with it the branch is overwritten.
 */
export async function pushProject(
  deps: ImportDeps,
  userId: string,
  workspace: Workspace,
  input: { remoteUrl: string; branch: string; credentialId?: string | undefined; hostKey?: string | undefined; force?: boolean | undefined },
): Promise<PushResult> {
  const policy = gitPolicy(deps.config.gitio.allowPrivate);
  const remote = parseGitUrl(input.remoteUrl, policy);
  assertRefName(input.branch, 'branch');
  const credential = input.credentialId === undefined ? undefined : await openGitCredential(deps.db, deps.vault, userId, input.credentialId);
  const sha = await workspace.history.headSha();
  const forced = input.force === true;
  const knownHosts = new KnownHostsRepo(deps.db);
  const hostKey = await knownHosts.pinFor(userId, remote, input.hostKey);
  await withRemoteSession(remote, { credential, hostKey }, policy, async (session) => {
    const env = { ...session.env, GIT_DIR: workspace.gitDir };
    const args = [...session.configArgs, 'push', '--porcelain', '--no-verify', ...(forced ? ['--force'] : []), '--', session.url, `${sha}:refs/heads/${input.branch}`];
    try {
      await runGit({ args, env, cwd: session.tmp, timeoutMs: deps.config.gitio.timeoutMs });
    } catch (err) {
      const stdout = (err as { stdout?: string }).stdout ?? '';
      if (NON_FAST_FORWARD.test(stdout)) {
        throw new AppError('E_PUSH_REJECTED', `The branch ${input.branch} of ${remote.display} has commits this project's history does not: pushing would overwrite them. Push to another branch, or send force: true to overwrite it.`);
      }
      throw remoteFailure(err, session, `Pushing to ${remote.display}`, { timeoutMs: deps.config.gitio.timeoutMs });
    }
    if (input.hostKey !== undefined) await knownHosts.remember(userId, remote, session.hostKeys);
  });
  deps.logger.info({ userId, projectId: workspace.projectId, to: remote.display, branch: input.branch, sha, forced }, 'project pushed');
  return { remote: remote.display, branch: input.branch, sha, forced };
}
