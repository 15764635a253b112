import type { Writable } from 'node:stream';

/**
 * The workspaces port: what the pipeline (agents' tools, one commit per step) and the HTTP API
 * (files, history, diff, revert, export) use. Paths are workspace-relative `/`-separated strings;
 * an unsafe one is refused with E_PATH_UNSAFE.
 */

export type FileContent =
  | { readonly path: string; readonly size: number; readonly binary: false; readonly content: string }
  | { readonly path: string; readonly size: number; readonly binary: true };

export type TreeEntry =
  | { readonly path: string; readonly type: 'file'; readonly size: number }
  | { readonly path: string; readonly type: 'dir' | 'symlink' };

export interface FileTree {
  /** Depth-first, names sorted; `.git` and `node_modules` left out; symlinks reported, not followed. */
  readonly entries: readonly TreeEntry[];
  /** True when the listing stopped at maxEntries. */
  readonly truncated: boolean;
}

export interface WorkspaceFiles {
  /** Text content, or `{binary: true, size}` (NUL in the first 8 KB or invalid UTF-8). E_FILE_TOO_LARGE over maxBytes (default: the configured max). */
  readFile(path: string, options?: { maxBytes?: number }): Promise<FileContent>;
  /** Creates parent directories; atomic replace (temp file + rename). E_FILE_TOO_LARGE over the configured max. */
  writeFile(path: string, content: string | Uint8Array): Promise<{ path: string; size: number }>;
  /** Deletes a file (or a symlink itself); E_NOT_FOUND when absent. */
  deleteFile(path: string): Promise<void>;
  tree(options?: { maxEntries?: number }): Promise<FileTree>;
}

/** Step metadata stored as git trailers, e.g. `{ 'Samokoder-Run': runId, 'Samokoder-Step': 'coder' }`. */
export type Trailers = Readonly<Record<string, string>>;

export interface Commit {
  readonly sha: string;
  /** Subject line. */
  readonly subject: string;
  /** The whole message, trailers included. */
  readonly message: string;
  /** Committer date, ISO 8601. */
  readonly date: string;
  readonly trailers: Trailers;
}

export interface DiffFile {
  readonly path: string;
  /** Null for binary files. */
  readonly additions: number | null;
  readonly deletions: number | null;
  readonly binary: boolean;
}

export interface Diff {
  readonly from: string;
  readonly to: string;
  readonly files: readonly DiffFile[];
  /** Unified diff text, cut at maxBytes (then `truncated` is true). */
  readonly patch: string;
  readonly truncated: boolean;
}

export interface WorkspaceHistory {
  /** Stages everything (deletions too) and commits, even when nothing changed; returns the new sha. */
  commitAll(message: string, trailers?: Trailers): Promise<string>;
  /** Newest first. */
  history(options?: { limit?: number; offset?: number }): Promise<readonly Commit[]>;
  /** `from`/`to` are shas (4–64 hex) of this repository; E_VALIDATION when malformed, E_NOT_FOUND when unknown. */
  diff(from: string, to: string, options?: { maxBytes?: number }): Promise<Diff>;
  /** A new commit on top whose tree equals `toSha`'s tree; later history is kept. Returns the new sha. */
  revert(toSha: string, message?: string, trailers?: Trailers): Promise<string>;
  /** Discards uncommitted leftovers (of a killed step): tracked files back to HEAD, untracked files removed, node_modules and .venv kept. */
  resetToHead(): Promise<void>;
  headSha(): Promise<string>;
  /** git's automatic housekeeping (gc --auto), which commits skip: call it after a batch of commits, e.g. once per run. */
  maintain(): Promise<void>;
}

export interface ExportOptions {
  /** Also store the git repository as `.git/` (the API's `?git=1`). */
  readonly includeGit?: boolean;
  /** Stops the export (e.g. the request was aborted). Closing the destination stops it too. */
  readonly signal?: AbortSignal;
  /** End the destination after the archive (default true). */
  readonly end?: boolean;
}

export interface ExportResult {
  readonly entries: number;
  readonly bytes: number;
}

export interface QuotaUsage {
  /** Bytes the workspace and its git repository take on disk. */
  readonly usedBytes: number;
  readonly limitBytes: number;
  /** No room left: the next write may fail (a volume), or the usage is at or over the limit (measured). */
  readonly full: boolean;
}

/**
 * The project's disk quota (workspace and repository together). `volume`: enforced by the kernel
 * (a loop-mounted filesystem of the quota's size: writes past it fail with ENOSPC); `reactive`:
 * measured, and checked before writes and commits; `off`: none.
 */
export interface WorkspaceQuota {
  readonly mode: 'volume' | 'reactive' | 'off';
  readonly limitBytes: number;
  usage(): Promise<QuotaUsage>;
}

/** Which quota mechanism new workspaces get on this node, and why (for the log and /readyz). */
export interface QuotaStatus {
  readonly setting: 'enforce' | 'best-effort' | 'reactive' | 'off';
  readonly active: 'volume' | 'reactive' | 'off';
  readonly reason?: string;
}

export interface Workspace {
  readonly projectId: string;
  /** The workspace directory (a real path); the sandbox mounts this. */
  readonly dir: string;
  /** Its git repository, beside it (never mounted into the sandbox); what a push sends from. */
  readonly gitDir: string;
  readonly files: WorkspaceFiles;
  readonly history: WorkspaceHistory;
  /** Writes and commits past it fail with E_WORKSPACE_QUOTA. */
  readonly quota: WorkspaceQuota;
  /** Streams a deterministic ZIP into `destination`; E_CANCELLED when the destination closes early. */
  exportZip(destination: Writable, options?: ExportOptions): Promise<ExportResult>;
}

/** What a new workspace starts with instead of an empty first commit (an import). */
export interface WorkspaceSeed {
  /** Writes the files into the new, empty workspace directory. */
  fill(dir: string): Promise<void>;
  /** The message of the repository's first commit, which holds every file `fill` wrote. */
  readonly message: string;
}

export interface WorkspaceStore {
  /**
   * Creates the directory and its git repository with an initial commit; idempotent. With a
   * volume quota the workspace is a new volume of `quotaBytes` (default: the configured quota),
   * and an existing one is mounted when it is not (after a reboot). E_WORKSPACE_QUOTA_UNAVAILABLE
   * when the quota must be enforced and the volume cannot be made.
   */
  create(projectId: string, options?: { quotaBytes?: number; seed?: WorkspaceSeed }): Promise<Workspace>;
  /** E_NOT_FOUND when the workspace does not exist. */
  open(projectId: string): Promise<Workspace>;
  exists(projectId: string): Promise<boolean>;
  /** Deletes the workspace and its repository (project deletion), unmounting and deleting its volume; no error when absent. */
  remove(projectId: string): Promise<void>;
  /**
   * E_DISK_RESERVE when the host's free space is below the configured reserve: called before
   * anything that makes a workspace grow (a new project, a new run).
   */
  checkReserve?(): Promise<void>;
  /** The quota mechanism in use (probed once). */
  quotaStatus?(): Promise<QuotaStatus>;
}
