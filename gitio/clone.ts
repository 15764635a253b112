import path from 'node:path';
import { AppError } from '../core/errors.js';
import { runGit } from './git-process.js';
import { remoteFailure, type RemoteSession } from './remote-session.js';
import type { GitRemote } from './remote-url.js';
import type { ImportLimits } from './zip-import.js';

/** A shallow bare clone in a session's directory, checked and ready to be written into a workspace. */
export interface CheckedClone {
  /** The commit imported. */
  readonly sha: string;
  readonly files: number;
  readonly bytes: number;
  /** Symlinks and submodules, left out. */
  readonly skipped: readonly string[];
  /** Writes the commit's regular files into `dir` (no symlink, no submodule, no hook, no filter). */
  checkoutTo(dir: string): Promise<void>;
}

interface TreeEntry {
  mode: string;
  sha: string;
  size: number;
  path: string;
}

/**
 * Clones `ref` (or the default branch) of the remote: bare, depth 1, one branch, no tags, so git
 * checks nothing out and runs nothing while receiving (and fsck checks every object); killed
 * past the size cap or the time limit. The tree is then read and checked against the limits, and
 * only regular files are checked out later — through a private index, with git told nothing but
 * the clone's own config.
 */
export async function cloneChecked(session: RemoteSession, remote: GitRemote, ref: string | undefined, limits: ImportLimits & { timeoutMs: number }): Promise<CheckedClone> {
  const repo = path.join(session.tmp, 'repo.git');
  const what = `Cloning ${remote.display}`;
  try {
    await runGit({
      args: [...session.configArgs, 'clone', '--bare', '--depth=1', '--single-branch', '--no-tags', ...(ref ? ['--branch', ref] : []), '--', session.url, repo],
      env: session.env,
      cwd: session.tmp,
      timeoutMs: limits.timeoutMs,
      watch: { dir: session.tmp, maxBytes: limits.maxBytes },
    });
  } catch (err) {
    throw remoteFailure(err, session, what, limits);
  }
  const local = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: session.tmp,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_DIR: repo,
    ...extra,
  });
  const git = (args: string[], env = local(), stdin?: string, cwd = session.tmp) =>
    runGit({ args: ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', ...args], env, cwd, timeoutMs: limits.timeoutMs, ...(stdin === undefined ? {} : { stdin }) }).catch((err: unknown) => {
      throw new AppError('E_GIT', `Reading the cloned repository failed (git ${args[0]})`, { cause: err });
    });
  // An empty repository clones fine (with a warning) but has nothing to import.
  const head = await runGit({ args: ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], env: local(), cwd: session.tmp, timeoutMs: limits.timeoutMs }).catch(() => undefined);
  if (!head) throw new AppError('E_GIT_REMOTE', `${remote.display} has no commits${ref ? ` on ${ref}` : ''}: there is nothing to import.`, { retryable: false });
  const sha = head.stdout.trim();
  const entries = (await git(['ls-tree', '-r', '-z', '--long', '--full-tree', sha])).stdout
    .split('\0')
    .map((rec) => /^(\d{6}) \w+ ([0-9a-f]{40,64}) +(-|\d+)\t(.+)$/s.exec(rec))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m): TreeEntry => ({ mode: m[1]!, sha: m[2]!, size: m[3] === '-' ? 0 : Number(m[3]), path: m[4]! }));
  const files = entries.filter((e) => e.mode === '100644' || e.mode === '100755');
  const skipped = entries.filter((e) => !files.includes(e)).map((e) => `${e.path} (${e.mode === '120000' ? 'a symlink' : e.mode === '160000' ? 'a submodule' : `mode ${e.mode}`})`);
  const bytes = files.reduce((n, e) => n + e.size, 0);
  if (files.length > limits.maxFiles) throw new AppError('E_IMPORT_TOO_LARGE', `The repository holds ${files.length} files, more than ${limits.maxFiles} (SAMOKODER_IMPORT_MAX_FILES). Nothing was kept.`);
  if (bytes > limits.maxBytes) {
    throw new AppError('E_IMPORT_TOO_LARGE', `The repository's files take ${Math.ceil(bytes / 1048576)} MiB, more than ${Math.round(limits.maxBytes / 1048576)} MiB (SAMOKODER_IMPORT_MAX_MB, or the plan's workspace quota). Nothing was kept.`);
  }
  return {
    sha,
    files: files.length,
    bytes,
    skipped,
    checkoutTo: async (dir) => {
      const env = local({ GIT_INDEX_FILE: path.join(session.tmp, 'import.index'), GIT_WORK_TREE: dir });
      await git(['update-index', '-z', '--index-info'], env, files.map((e) => `${e.mode} ${e.sha}\t${e.path}\0`).join(''));
      await git(['checkout-index', '--all', '--force'], env, undefined, dir);
    },
  };
}
