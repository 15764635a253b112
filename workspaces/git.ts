import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { SimpleGitOptions } from 'simple-git';
import { AppError, isAppError } from '../core/errors.js';
import { gitHost } from './git-host.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { Commit, Diff, DiffFile, Trailers, WorkspaceHistory, WorkspaceSeed } from './port.js';
import { formatCommitMessage, parseTrailers } from './trailers.js';

export const GIT_AUTHOR = { name: 'Samokoder', email: 'bot@samokoder.local' } as const;

/** Untracked directories resetToHead keeps: installed dependencies, slow to reinstall, never authored by a step. */
const KEPT_ON_RESET = ['node_modules', '.venv'];
const SHA = /^[0-9a-f]{4,64}$/i;
const DEFAULT_DIFF_MAX_BYTES = 1024 * 1024;
const DEFAULT_HISTORY_LIMIT = 100;
const GIT_TIMEOUT_MS = 120_000;

/** Passed as `-c` to every git command (see gitClient). */
const GIT_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'commit.gpgsign=false',
  'core.quotePath=false',
  'core.autocrlf=false',
] as const;

/**
 * `git add` runs on the host, outside the sandbox's CPU cap, over whatever a command left in the
 * workspace. Files above 8 MiB (generated data, downloads: rarely source) go straight into a pack
 * without zlib or delta search: about 7x less host CPU (100 MiB of random data: 9.1 s → 1.3 s
 * here), for some space in the quota when such a file would have compressed.
 */
const BIG_FILE_ADD_CONFIG = ['-c', 'core.bigFileThreshold=8m', '-c', 'pack.compression=0'] as const;

async function removeTempPacks(gitDir: string): Promise<void> {
  const dir = path.join(gitDir, 'objects', 'pack');
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith('tmp_pack_')).map((n) => fsp.rm(path.join(dir, n), { force: true })));
}

function gitEnv(gitDir: string, workTree: string): Record<string, string> {
  return {
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
  };
}

/** The git commands of one workspace repository (see gitClient). */
export interface GitRunner {
  /** Through simple-git; resolves with stdout. */
  raw(args: readonly string[]): Promise<string>;
  /** A command that prints nothing when it succeeds (see below). */
  silent(args: readonly string[]): Promise<void>;
}

/**
 * Git for one workspace. The repository lives beside the workspace (`<root>/<id>.git`), not in
 * it: the sandbox mounts only the workspace, so generated code can never edit .git/config or
 * hooks (core.fsmonitor, filters, hooks would run on the service's host). Every command gets
 * GIT_DIR and GIT_WORK_TREE explicitly, so there is no repository discovery — and no
 * safe.directory ownership check, which would otherwise refuse files created by the sandbox uid.
 * The host's system and global config are ignored; the author is fixed; hooks, fsmonitor and
 * signing are off.
 *
 * The commands run in the git host process (git-host.ts: a fork of a small process instead of
 * this one). Those that print nothing on success (`add`, `reset --quiet`, `clean` with nothing to
 * clean, `read-tree`) are `silent`: the same `-c` options, environment and timeout, but not
 * through simple-git, whose completion detection waits a fixed 50 ms after any process that wrote
 * nothing to stdout or stderr (not configurable in simple-git 4: the `completion` option only
 * chooses between the exit and close events) — that wait was most of a step's commit time. The
 * arguments are all ours (fixed flags, validated shas), as with the `unsafe` exemptions below.
 * Everything that prints goes through simple-git.
 */
export function gitClient(gitDir: string, workTree: string): GitRunner {
  const env = gitEnv(gitDir, workTree);
  const options: Partial<SimpleGitOptions> = {
    baseDir: workTree,
    config: [...GIT_CONFIG],
    // These categories guard against untrusted argv; every argument here is ours or a validated sha.
    unsafe: { allowUnsafeHooksPath: true, allowUnsafeFsMonitor: true, allowUnsafeConfigPaths: true },
    timeout: { block: GIT_TIMEOUT_MS },
    // simple-git strips GIT_* variables it does not know to be safe; these are set by us.
    allowEnvironment: ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL', 'GIT_TERMINAL_PROMPT', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL'],
  } as Partial<SimpleGitOptions>;
  const configArgs = GIT_CONFIG.flatMap((c) => ['-c', c]);
  return {
    raw: (args) => gitHost.run({ kind: 'raw', options, env, args }),
    silent: async (args) => {
      await gitHost.run({ kind: 'silent', args: [...configArgs, ...args], cwd: workTree, env, timeout: GIT_TIMEOUT_MS });
    },
  };
}

/** `[main 3f2c…] subject` (or `[main (root-commit) 3f2c…]`): the full sha (core.abbrev=no). */
const COMMIT_SUMMARY = /^\[[^\]\n]*? ([0-9a-f]{40}|[0-9a-f]{64})\]/;

/**
 * Creates the repository (branch `main`) with an initial empty commit, unless it exists. With a
 * seed, the first commit holds what the seed writes (every file, even ones its .gitignore names:
 * an import keeps what its source tracked) under the seed's message.
 */
export async function initRepository(gitDir: string, workTree: string, seed?: WorkspaceSeed): Promise<void> {
  if (await fsp.stat(path.join(gitDir, 'HEAD')).then(() => true, () => false)) return;
  const git = gitClient(gitDir, workTree);
  await wrap('init', async () => {
    // Not --quiet: a command that prints is not held by simple-git's 50 ms wait (see gitClient).
    await git.raw(['init', '--initial-branch=main']);
    await writeRepositoryConfig(gitDir);
    await fsp.rm(path.join(gitDir, 'hooks'), { recursive: true, force: true });
    if (seed) {
      await seed.fill(workTree);
      await git.silent([...BIG_FILE_ADD_CONFIG, 'add', '--all', '--force', '--', '.']);
    }
    await commit(git, seed?.message ?? 'Initialize workspace');
  });
}

/**
 * The new repository's own config: init records the absolute work tree (dropped, so an exported
 * .git is an ordinary repository), plus the fixed author and no signing. Edited as text rather
 * than with four `git config` runs: each git process costs a fork of this (PGlite-sized) process,
 * ~20 ms or more, and the file is git's freshly written [core] section.
 */
async function writeRepositoryConfig(gitDir: string): Promise<void> {
  const file = path.join(gitDir, 'config');
  const core = (await fsp.readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => !/^\s*worktree\s*=/i.test(line))
    .join('\n')
    .trimEnd();
  const own = `[user]\n\tname = ${GIT_AUTHOR.name}\n\temail = ${GIT_AUTHOR.email}\n[commit]\n\tgpgsign = false\n`;
  await fsp.writeFile(file, `${core}\n${own}`);
}

/**
 * `git commit --allow-empty` (every pipeline step gets its commit, even one that changed nothing;
 * --cleanup=whitespace: a line starting with '#' is content, not a comment). Returns the new
 * commit's sha, read from the summary line git prints (full, with core.abbrev=no), or — should
 * that line ever not parse — from rev-parse.
 */
async function commit(git: GitRunner, message: string): Promise<string> {
  // core.abbrev=no: the full sha in the summary line; diff.renames=false: no rename detection for
  // its diffstat (unused, and slow on large trees); maintenance.auto=false: no `git maintenance
  // run --auto` process after every commit (a third process per step commit, ~10 ms here) —
  // GitWorkspaceHistory.maintain() runs it once per run attempt instead (run-worker.ts).
  const out = await git.raw(['-c', 'core.abbrev=no', '-c', 'diff.renames=false', '-c', 'maintenance.auto=false', 'commit', '--allow-empty', '--no-verify', '--cleanup=whitespace', `--message=${message}`]);
  const sha = COMMIT_SUMMARY.exec(out)?.[1];
  return sha ?? (await git.raw(['rev-parse', '--verify', 'HEAD'])).trim();
}

export class GitWorkspaceHistory implements WorkspaceHistory {
  private readonly git: GitRunner;

  constructor(
    gitDir: string,
    workTree: string,
    private readonly lock: KeyedMutex,
  ) {
    this.git = gitClient(gitDir, workTree);
    this.lockKey = gitDir;
  }

  private readonly lockKey: string;

  private silent(args: readonly string[]): Promise<void> {
    return this.git.silent(args);
  }

  commitAll(message: string, trailers: Trailers = {}): Promise<string> {
    return this.lock.run(this.lockKey, () =>
      wrap('commit', async () => {
        // add (silent, in stage()) and commit, whose summary line carries the new sha.
        const skipped = await this.stage().catch(async (err: unknown) => {
          // An add that failed (a full disk) leaves its half-written big-file pack behind, which
          // would hold the space the next attempt needs. A maintain() repacking at this moment
          // (it runs outside the lock) loses its temporary pack too: it fails, and a later one redoes it.
          await removeTempPacks(this.lockKey);
          throw err;
        });
        const note = skipped.length ? `\n\nNot committed (left in the workspace only): ${skipped.join('; ')}.` : '';
        return commit(this.git, formatCommitMessage(message + note, trailers));
      }),
    );
  }

  /**
   * Stages the work tree as a step's commit, without what a checkout of the history must never
   * recreate and what git cannot hold as files: symlinks (one to /etc/passwd would be recreated
   * by whoever checks out an exported history) and nested repositories (the agent ran `git init`
   * in a subfolder; git adds one as a gitlink, or, without a commit yet, refuses the whole add).
   * Both stay in the work tree. Returns a note per path left out.
   */
  private async stage(): Promise<string[]> {
    const skipped: string[] = [];
    const addAll = (excluded: readonly string[]): Promise<void> =>
      this.silent([...BIG_FILE_ADD_CONFIG, 'add', '--all', '--', '.', ...excluded.map((p) => `:(exclude,literal)${p}`)]);
    try {
      await addAll([]);
    } catch (addError) {
      // Untracked nested repositories are listed as their directory ("sub/"): leave them out.
      const others = await this.git.raw(['ls-files', '--others', '--exclude-standard', '-z']);
      const nested = others.split('\0').filter((p) => p.endsWith('/'));
      if (nested.length === 0) throw addError;
      await addAll(nested);
      skipped.push(...nested.map((p) => `${p} (a nested git repository)`));
    }
    // Mode 120000 is a symlink, 160000 a nested repository's commit (gitlink).
    const staged = await this.git.raw(['ls-files', '--stage', '-z']);
    const refused = staged
      .split('\0')
      .map((entry) => /^(120000|160000) [0-9a-f]+ \d\t(.*)$/s.exec(entry))
      .filter((m): m is RegExpExecArray => m !== null);
    if (refused.length) {
      // Out of the index only (paths taken literally, no pathspec); the work tree keeps them.
      await this.silent(['update-index', '--force-remove', '--', ...refused.map((m) => m[2]!)]);
      skipped.push(...refused.map((m) => `${m[2]!} (${m[1] === '120000' ? 'a symlink' : 'a nested git repository'})`));
    }
    return skipped;
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
        await this.silent(['read-tree', '--reset', '-u', target]);
        return commit(this.git, text);
      });
    });
  }

  /**
   * git's automatic housekeeping (packing loose objects once there are enough of them), which
   * commits here skip. In the foreground (gc.autoDetach=false), so the caller knows when it is
   * done; not under the workspace lock, because git's gc is safe beside concurrent commits.
   */
  maintain(): Promise<void> {
    return wrap('maintenance', () => this.silent(['-c', 'gc.autoDetach=false', 'maintenance', 'run', '--auto', '--quiet']));
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
    await this.silent(['reset', '--quiet', '--hard', 'HEAD']);
    await this.silent(['clean', '-ffdxq', ...KEPT_ON_RESET.flatMap((p) => ['-e', p])]);
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
