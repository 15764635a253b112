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

export interface Workspace {
  readonly projectId: string;
  /** The workspace directory (a real path); the sandbox mounts this. */
  readonly dir: string;
  readonly files: WorkspaceFiles;
  readonly history: WorkspaceHistory;
  /** Streams a deterministic ZIP into `destination`; E_CANCELLED when the destination closes early. */
  exportZip(destination: Writable, options?: ExportOptions): Promise<ExportResult>;
}

export interface WorkspaceStore {
  /** Creates the directory and its git repository with an initial commit; idempotent. */
  create(projectId: string): Promise<Workspace>;
  /** E_NOT_FOUND when the workspace does not exist. */
  open(projectId: string): Promise<Workspace>;
  exists(projectId: string): Promise<boolean>;
  /** Deletes the workspace and its repository (project deletion); no error when absent. */
  remove(projectId: string): Promise<void>;
}
