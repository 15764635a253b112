import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { AppError, isAppError } from '../core/errors.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { Commit, Diff, DiffFile, Trailers, WorkspaceHistory } from './port.js';
import { formatCommitMessage, parseTrailers } from './trailers.js';

export const GIT_AUTHOR = { name: 'Samokoder', email: 'bot@samokoder.local' } as const;

/** Untracked directories resetToHead keeps: installed dependencies, slow to reinstall, never authored by a step. */
const KEPT_ON_RESET = ['node_modules', '.venv'];
const SHA = /^[0-9a-f]{4,64}$/i;
const DEFAULT_DIFF_MAX_BYTES = 1024 * 1024;
const DEFAULT_HISTORY_LIMIT = 100;

/**
 * Git for one workspace. The repository lives beside the workspace (`<root>/<id>.git`), not in
 * it: the sandbox mounts only the workspace, so generated code can never edit .git/config or
 * hooks (core.fsmonitor, filters, hooks would run on the service's host). Every command gets
 * GIT_DIR and GIT_WORK_TREE explicitly, so there is no repository discovery — and no
 * safe.directory ownership check, which would otherwise refuse files created by the sandbox uid.
 * The host's system and global config are ignored; the author is fixed; hooks, fsmonitor and
 * signing are off.
 */
export function gitClient(gitDir: string, workTree: string): SimpleGit {
  return simpleGit({
    baseDir: workTree,
    config: ['core.hooksPath=/dev/null', 'core.fsmonitor=false', 'commit.gpgsign=false', 'core.quotePath=false', 'core.autocrlf=false'],
    // These categories guard against untrusted argv; every argument here is ours or a validated sha.
    unsafe: { allowUnsafeHooksPath: true, allowUnsafeFsMonitor: true, allowUnsafeConfigPaths: true },
    timeout: { block: 120_000 },
    // simple-git strips GIT_* variables it does not know to be safe; these are set by us.
    allowEnvironment: ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL', 'GIT_TERMINAL_PROMPT', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL'],
  }).env({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: gitDir,
    LC_ALL: 'C',
    GIT_DIR: gitDir,
    GIT_WORK_TREE: workTree,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: GIT_AUTHOR.name,
    GIT_AUTHOR_EMAIL: GIT_AUTHOR.email,
    GIT_COMMITTER_NAME: GIT_AUTHOR.name,
    GIT_COMMITTER_EMAIL: GIT_AUTHOR.email,
  });
}

/** Creates the repository (branch `main`) with an initial empty commit, unless it exists. */
export async function initRepository(gitDir: string, workTree: string): Promise<void> {
  if (await fsp.stat(path.join(gitDir, 'HEAD')).then(() => true, () => false)) return;
  const git = gitClient(gitDir, workTree);
  await wrap('init', async () => {
    await git.raw(['init', '--quiet', '--initial-branch=main']);
    // init records the absolute work tree; drop it so an exported .git is an ordinary repository.
    await git.raw(['config', '--unset', 'core.worktree']);
    for (const [key, value] of [['user.name', GIT_AUTHOR.name], ['user.email', GIT_AUTHOR.email], ['commit.gpgsign', 'false']] as const) {
      await git.raw(['config', key, value]);
    }
    await fsp.rm(path.join(gitDir, 'hooks'), { recursive: true, force: true });
    await git.raw(['commit', '--quiet', '--allow-empty', '--no-verify', '--message=Initialize workspace']);
  });
}

export class GitWorkspaceHistory implements WorkspaceHistory {
  private readonly git: SimpleGit;

  constructor(
    gitDir: string,
    workTree: string,
    private readonly lock: KeyedMutex,
  ) {
    this.git = gitClient(gitDir, workTree);
    this.lockKey = gitDir;
  }

  private readonly lockKey: string;

  commitAll(message: string, trailers: Trailers = {}): Promise<string> {
    const text = formatCommitMessage(message, trailers);
    return this.lock.run(this.lockKey, () =>
      wrap('commit', async () => {
        await this.git.raw(['add', '--all']);
        // --allow-empty: every pipeline step gets its commit, even one that changed nothing.
        // --cleanup=whitespace: a line starting with '#' is content, not a comment.
        await this.git.raw(['commit', '--quiet', '--allow-empty', '--no-verify', '--cleanup=whitespace', `--message=${text}`]);
        return this.head();
      }),
    );
  }

  async history(options: { limit?: number; offset?: number } = {}): Promise<readonly Commit[]> {
    const limit = clampInt(options.limit ?? DEFAULT_HISTORY_LIMIT, 1, 1000);
    const offset = clampInt(options.offset ?? 0, 0, Number.MAX_SAFE_INTEGER);
    // -z ends each record with NUL; %B (which may hold anything but NUL) comes last.
    const out = await wrap('log', () =>
      this.git.raw(['log', '-z', `--max-count=${limit}`, `--skip=${offset}`, '--format=%H%x1f%cI%x1f%(trailers:only,unfold)%x1f%B', 'HEAD']),
    );
    return out
      .split('\0')
      .filter((r) => r.length > 0)
      .map((record) => {
        const [sha = '', date = '', trailers = '', ...rest] = record.split('\x1f');
        const message = rest.join('\x1f').trimEnd();
        return { sha, date, subject: message.split('\n')[0] ?? '', message, trailers: parseTrailers(trailers) };
      });
  }

  async diff(from: string, to: string, options: { maxBytes?: number } = {}): Promise<Diff> {
    const [a, b] = [await this.resolve(from, 'from'), await this.resolve(to, 'to')];
    const maxBytes = options.maxBytes ?? DEFAULT_DIFF_MAX_BYTES;
    const flags = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-renames'];
    const [numstat, patch] = await wrap('diff', () =>
      Promise.all([this.git.raw(['diff', ...flags, '--numstat', '-z', a, b]), this.git.raw(['diff', ...flags, a, b])]),
    );
    const files: DiffFile[] = [];
    // -z numstat: "<added>\t<deleted>\t<path>\0"; binary files show "-" counts.
    for (const rec of numstat.split('\0')) {
      const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(rec);
      if (!m) continue;
      const binary = m[1] === '-';
      files.push({ path: m[3]!, additions: binary ? null : Number(m[1]), deletions: binary ? null : Number(m[2]), binary });
    }
    const truncated = Buffer.byteLength(patch, 'utf8') > maxBytes;
    return { from: a, to: b, files, patch: truncated ? Buffer.from(patch, 'utf8').subarray(0, maxBytes).toString('utf8') : patch, truncated };
  }

  revert(toSha: string, message?: string, trailers: Trailers = {}): Promise<string> {
    return this.lock.run(this.lockKey, async () => {
      const target = await this.resolve(toSha, 'sha');
      const text = formatCommitMessage(message ?? `Revert to ${target.slice(0, 12)}`, { ...trailers, 'Samokoder-Revert-To': target });
      return wrap('revert', async () => {
        await this.discardLeftovers();
        // Index and work tree become exactly the target's tree (files added since are removed);
        // committing that on top keeps every later commit in the history.
        await this.git.raw(['read-tree', '--reset', '-u', target]);
        await this.git.raw(['commit', '--quiet', '--allow-empty', '--no-verify', '--cleanup=whitespace', `--message=${text}`]);
        return this.head();
      });
    });
  }

  resetToHead(): Promise<void> {
    return this.lock.run(this.lockKey, () => wrap('reset', () => this.discardLeftovers()));
  }

  headSha(): Promise<string> {
    return wrap('rev-parse', () => this.head());
  }

  /**
   * Tracked files back to HEAD; every untracked file removed, ignored ones too (-x: a killed step
   * may have written into an ignored path), except dependency directories (-e keeps them).
   */
  private async discardLeftovers(): Promise<void> {
    await this.git.raw(['reset', '--quiet', '--hard', 'HEAD']);
    await this.git.raw(['clean', '-ffdxq', ...KEPT_ON_RESET.flatMap((p) => ['-e', p])]);
  }

  private async head(): Promise<string> {
    return (await this.git.raw(['rev-parse', '--verify', 'HEAD'])).trim();
  }

  /** A full commit sha of this repository; the hex check also rules out option injection. */
  private async resolve(sha: string, field: string): Promise<string> {
    if (typeof sha !== 'string' || !SHA.test(sha)) throw new AppError('E_VALIDATION', `${field} must be a commit sha (4-64 hex digits)`);
    const out = await this.git.raw(['rev-parse', '--verify', '--quiet', `${sha}^{commit}`]).catch(() => '');
    const full = out.trim();
    if (!/^[0-9a-f]{40,64}$/.test(full)) throw new AppError('E_NOT_FOUND', `No commit ${sha} in this workspace`);
    return full;
  }
}

function clampInt(n: number, min: number, max: number): number {
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.trunc(n))) : min;
}

async function wrap<T>(op: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isAppError(err)) throw err;
    throw new AppError('E_GIT', `git ${op} failed in the workspace repository`, { cause: err });
  }
}
