import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { AppError } from '../core/errors.js';
import { exportWorkspaceZip } from './export.js';
import { LocalWorkspaceFiles } from './files.js';
import { GitWorkspaceHistory, initRepository } from './git.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { ExportOptions, ExportResult, Workspace, WorkspaceStore } from './port.js';
import { assertProjectId } from './project-id.js';

export interface LocalWorkspaceStoreOptions {
  /** The workspaces directory (config.workspaces.dir); created when missing. */
  readonly root: string;
  /** Largest file written or served (config.workspaces.maxFileBytes). */
  readonly maxFileBytes: number;
}

/**
 * Workspaces on the local filesystem: `<root>/<projectId>` (what the sandbox mounts) and its git
 * directory `<root>/<projectId>.git` beside it.
 */
export class LocalWorkspaceStore implements WorkspaceStore {
  private realRoot: Promise<string> | undefined;
  private readonly gitLock = new KeyedMutex();

  constructor(private readonly options: LocalWorkspaceStoreOptions) {}

  async create(projectId: string): Promise<Workspace> {
    const { dir, gitDir } = await this.paths(projectId);
    await fsp.mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await this.assertRealDir(dir, projectId);
    await this.gitLock.run(gitDir, () => initRepository(gitDir, dir));
    return this.workspace(projectId, dir, gitDir);
  }

  async open(projectId: string): Promise<Workspace> {
    const { dir, gitDir } = await this.paths(projectId);
    if (!(await this.existsAt(dir, gitDir))) throw new AppError('E_NOT_FOUND', `Workspace of project ${projectId} not found`);
    await this.assertRealDir(dir, projectId);
    return this.workspace(projectId, dir, gitDir);
  }

  async exists(projectId: string): Promise<boolean> {
    const { dir, gitDir } = await this.paths(projectId);
    return this.existsAt(dir, gitDir);
  }

  async remove(projectId: string): Promise<void> {
    const { dir, gitDir } = await this.paths(projectId);
    // fs.rm removes symlinks themselves and never descends through them.
    await this.gitLock.run(gitDir, async () => {
      await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
      await fsp.rm(gitDir, { recursive: true, force: true, maxRetries: 3 });
    });
  }

  private workspace(projectId: string, dir: string, gitDir: string): Workspace {
    return {
      projectId,
      dir,
      files: new LocalWorkspaceFiles(dir, this.options.maxFileBytes),
      history: new GitWorkspaceHistory(gitDir, dir, this.gitLock),
      exportZip: (destination: Writable, options?: ExportOptions): Promise<ExportResult> => exportWorkspaceZip({ dir, gitDir }, destination, options),
    };
  }

  private async paths(projectId: string): Promise<{ dir: string; gitDir: string }> {
    assertProjectId(projectId);
    // The root may legitimately be reached through a symlink (/data -> /mnt/data); it is resolved
    // once, so every path below it is a real path and the /proc/self/fd check can compare exactly.
    this.realRoot ??= fsp.mkdir(this.options.root, { recursive: true }).then(() => fsp.realpath(this.options.root));
    const root = await this.realRoot;
    return { dir: path.join(root, projectId), gitDir: path.join(root, `${projectId}.git`) };
  }

  private async existsAt(dir: string, gitDir: string): Promise<boolean> {
    const [a, b] = await Promise.all([fsp.lstat(dir).catch(() => undefined), fsp.lstat(path.join(gitDir, 'HEAD')).catch(() => undefined)]);
    return Boolean(a && b);
  }

  private async assertRealDir(dir: string, projectId: string): Promise<void> {
    const st = await fsp.lstat(dir);
    if (!st.isDirectory()) throw new AppError('E_PATH_UNSAFE', `Workspace of project ${projectId} is not a directory`);
  }
}
