import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NO_QUOTA, reactiveQuota, volumeQuota, type QuotaSetting } from './disk-quota.js';
import { checkDiskReserve } from './disk-reserve.js';
import { exportWorkspaceZip } from './export.js';
import { LocalWorkspaceFiles } from './files.js';
import { GitWorkspaceHistory, initRepository } from './git.js';
import { KeyedMutex } from './keyed-mutex.js';
import { destroyVolume, hasVolume, mountVolume, probeVolumes, volumePaths, type VolumePaths } from './loop-volume.js';
import type { ExportOptions, ExportResult, QuotaStatus, Workspace, WorkspaceQuota, WorkspaceSeed, WorkspaceStore } from './port.js';
import { assertProjectId } from './project-id.js';
import { guardFiles, guardHistory, onNoSpace } from './quota-guard.js';

export interface WorkspaceQuotaOptions {
  readonly setting: QuotaSetting;
  /** A new workspace's quota when its creator names none (config.workspaces.quota.defaultBytes). */
  readonly defaultBytes: number;
  /** Free space the host keeps: checkReserve() refuses below it (0: no check). */
  readonly reserveBytes: number;
}

export interface LocalWorkspaceStoreOptions {
  /** The workspaces directory (config.workspaces.dir); created when missing. */
  readonly root: string;
  /** Largest file written or served (config.workspaces.maxFileBytes). */
  readonly maxFileBytes: number;
  /** The disk quota of each workspace and the host's reserve; default: none. */
  readonly quota?: WorkspaceQuotaOptions;
  /** Where the quota mechanism chosen at start is reported. */
  readonly logger?: Logger;
}

const NO_QUOTA_OPTIONS: WorkspaceQuotaOptions = { setting: 'off', defaultBytes: 0, reserveBytes: 0 };

/**
 * Workspaces on the local filesystem: `<root>/<projectId>` (what the sandbox mounts) and its git
 * directory `<root>/<projectId>.git` beside it. With a volume quota both are bind mounts of one
 * loop-mounted image (loop-volume.ts), mounted when the workspace is created or first opened
 * (after a reboot) and left mounted until the project is removed.
 */
export class LocalWorkspaceStore implements WorkspaceStore {
  private realRoot: Promise<string> | undefined;
  private status: Promise<QuotaStatus> | undefined;
  private readonly gitLock = new KeyedMutex();
  private readonly quota: WorkspaceQuotaOptions;

  constructor(private readonly options: LocalWorkspaceStoreOptions) {
    this.quota = options.quota ?? NO_QUOTA_OPTIONS;
  }

  async create(projectId: string, options: { quotaBytes?: number; seed?: WorkspaceSeed } = {}): Promise<Workspace> {
    const p = await this.paths(projectId);
    const { dir, gitDir } = p;
    const status = await this.quotaStatus();
    if (status.active === 'volume') {
      if (!(await this.mounted(p))) await this.mountOrCreate(p, options.quotaBytes ?? this.quota.defaultBytes);
    } else {
      if (status.setting === 'enforce' && !(await hasVolume(p))) throw this.unavailable(status);
      await this.mountExisting(p);
      if (options.quotaBytes !== undefined && status.active === 'reactive') await fsp.writeFile(p.limitFile, String(options.quotaBytes));
    }
    await fsp.mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await this.assertRealDir(dir, projectId);
    const quota = await this.quotaOf(p);
    await this.gitLock.run(gitDir, () => onNoSpace(quota, 'The repository was not created', () => initRepository(gitDir, dir, options.seed)));
    return this.workspace(projectId, p, quota);
  }

  async open(projectId: string): Promise<Workspace> {
    const p = await this.paths(projectId);
    await this.mountExisting(p);
    if (!(await this.existsAt(p.dir, p.gitDir))) throw new AppError('E_NOT_FOUND', `Workspace of project ${projectId} not found`);
    await this.assertRealDir(p.dir, projectId);
    return this.workspace(projectId, p, await this.quotaOf(p));
  }

  async exists(projectId: string): Promise<boolean> {
    const p = await this.paths(projectId);
    return (await hasVolume(p)) || this.existsAt(p.dir, p.gitDir);
  }

  async remove(projectId: string): Promise<void> {
    const p = await this.paths(projectId);
    // fs.rm removes symlinks themselves and never descends through them. The volume goes first:
    // removing files inside it one by one would only be slower.
    await this.gitLock.run(p.gitDir, async () => {
      await destroyVolume(p);
      await fsp.rm(p.dir, { recursive: true, force: true, maxRetries: 3 });
      await fsp.rm(p.gitDir, { recursive: true, force: true, maxRetries: 3 });
      await fsp.rm(p.limitFile, { force: true });
    });
  }

  async checkReserve(): Promise<void> {
    await checkDiskReserve(await this.root(), this.quota.reserveBytes);
  }

  /** Probed once: whether volumes can be made here decides what `best-effort` means. */
  quotaStatus(): Promise<QuotaStatus> {
    this.status ??= this.resolveStatus();
    return this.status;
  }

  private async resolveStatus(): Promise<QuotaStatus> {
    const { setting } = this.quota;
    if (setting === 'off' || setting === 'reactive') {
      this.options.logger?.info({ setting }, `workspace quota: ${setting}`);
      return { setting, active: setting };
    }
    const probe = await probeVolumes(await this.root());
    if (probe.ok) {
      this.options.logger?.info({ setting }, 'workspace quota: volumes (preventive: each workspace is a loop-mounted filesystem of its quota)');
      return { setting, active: 'volume' };
    }
    if (setting === 'enforce') {
      this.options.logger?.error({ setting, reason: probe.reason }, 'workspace quota: volumes are required but unavailable; new workspaces are refused');
      return { setting, active: 'off', reason: probe.reason };
    }
    this.options.logger?.warn({ setting, reason: probe.reason }, 'workspace quota: reactive (measured after each command and before each commit), since volumes are unavailable');
    return { setting, active: 'reactive', reason: probe.reason };
  }

  private unavailable(status: QuotaStatus): AppError {
    return new AppError(
      'E_WORKSPACE_QUOTA_UNAVAILABLE',
      `SAMOKODER_WORKSPACE_QUOTA=enforce, but this node cannot make workspace volumes (${status.reason ?? 'unknown reason'}); run the service as root with loop devices, or set SAMOKODER_WORKSPACE_QUOTA=best-effort`,
    );
  }

  /** A new volume (or an existing one mounted); a plain workspace made before volumes stays as it is. */
  private async mountOrCreate(p: StorePaths, sizeBytes: number): Promise<void> {
    await this.gitLock.run(p.gitDir, () => mountVolume(p, { create: true, sizeBytes })).catch((err: unknown) => {
      // mount's and mkfs's own words go to the log only; the caller gets what to do.
      this.options.logger?.error({ err, projectId: path.basename(p.dir) }, 'workspace quota: could not make or mount the workspace volume');
      throw new AppError('E_WORKSPACE_QUOTA_UNAVAILABLE', 'The workspace volume could not be made or mounted (details are in the server log); try again later', { cause: err, retryable: true });
    });
  }

  /**
   * An existing volume is mounted when it is not (a reboot, or this store's setting no longer
   * makes volumes): unmounted, the workspace would look empty and writes would land beside it.
   */
  private async mountExisting(p: StorePaths): Promise<void> {
    if (!(await hasVolume(p)) || (await this.mounted(p))) return;
    await this.gitLock.run(p.gitDir, () => mountVolume(p, { create: false, sizeBytes: 0 })).catch((err: unknown) => {
      throw new AppError('E_WORKSPACE_QUOTA_UNAVAILABLE', `The workspace of project ${path.basename(p.dir)} is a volume this node cannot mount; run the service as root with loop devices`, { cause: err });
    });
  }

  /** Both bind mounts are in place: each sits on the volume's device, not the root's (a stat each, no process). */
  private async mounted(p: StorePaths): Promise<boolean> {
    const [root, dir, gitDir] = await Promise.all([fsp.stat(path.dirname(p.dir)), fsp.stat(p.dir).catch(() => undefined), fsp.stat(p.gitDir).catch(() => undefined)]);
    return Boolean(dir && gitDir && dir.dev !== root.dev && gitDir.dev === dir.dev);
  }

  private async quotaOf(p: StorePaths): Promise<WorkspaceQuota> {
    if (await this.mounted(p)) return volumeQuota(p.dir, (await fsp.stat(p.image)).size);
    if (this.quota.setting === 'off') return NO_QUOTA;
    const stored = Number(await fsp.readFile(p.limitFile, 'utf8').catch(() => ''));
    return reactiveQuota([p.dir, p.gitDir], Number.isSafeInteger(stored) && stored > 0 ? stored : this.quota.defaultBytes);
  }

  private workspace(projectId: string, p: StorePaths, quota: WorkspaceQuota): Workspace {
    const { dir, gitDir } = p;
    return {
      projectId,
      dir,
      gitDir,
      files: guardFiles(new LocalWorkspaceFiles(dir, this.options.maxFileBytes), quota),
      history: guardHistory(new GitWorkspaceHistory(gitDir, dir, this.gitLock), quota),
      quota,
      exportZip: (destination: Writable, options?: ExportOptions): Promise<ExportResult> => exportWorkspaceZip({ dir, gitDir }, destination, options),
    };
  }

  private root(): Promise<string> {
    // The root may legitimately be reached through a symlink (/data -> /mnt/data); it is resolved
    // once, so every path below it is a real path and the /proc/self/fd check can compare exactly.
    this.realRoot ??= fsp.mkdir(this.options.root, { recursive: true }).then(() => fsp.realpath(this.options.root));
    return this.realRoot;
  }

  private async paths(projectId: string): Promise<StorePaths> {
    assertProjectId(projectId);
    const root = await this.root();
    return { ...volumePaths(root, projectId), limitFile: path.join(root, `${projectId}.quota`) };
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

/** A workspace's paths; `limitFile` holds a reactive quota's limit (a volume's is its image's size). */
type StorePaths = VolumePaths & { readonly limitFile: string };
