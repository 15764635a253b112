import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { publishEphemeral } from '../events/event-log.js';
import type { EventFeed } from '../events/event-feed.js';
import { appendEvent, Coalescer } from '../events/run-events.js';
import { submitArchitectureArgs } from '../agents/tools/schemas.js';
import type { DurableEventType, EventData } from '../protocol/event-catalogue.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { KeyedMutex } from '../workspaces/keyed-mutex.js';
import { scrubSecrets, type ProjectEnv } from './project-env.js';
import { PreviewsRepo, type PreviewRow } from './repo.js';
import type { PreviewRuntime } from './runtime.js';

const OUTPUT_CHARS = 4000;
const TAIL_EVENT_CHARS = 2000;
const tail = (text: string, chars: number): string => (text.length <= chars ? text : `…${text.slice(-chars)}`);

export interface PreviewManagerDeps {
  db: Database;
  logger: Logger;
  workspaces: WorkspaceStore;
  env: ProjectEnv;
  /** Undefined when the sandbox is off on this node: previews cannot start here. */
  runtime: PreviewRuntime | undefined;
  /** A preview that served nothing for this long is stopped. */
  idleMs: number;
}

/**
 * Starts, restarts and stops the projects' previews; the state is the `previews` row (so every
 * node's proxy finds the container), the container is the runtime's. Starts and stops of one
 * project are serialised on this node. A preview restarts when a run finishes having changed the
 * files, and after a revert (refresh); it stops after idleMs without a request (sweepIdle).
 */
export class PreviewManager {
  private readonly lock = new KeyedMutex();
  /** Projects whose preview this node started: the durable seq up to which run.finished was looked for. */
  private readonly watched = new Map<string, number>();
  private readonly touched = new Map<string, { at: Date; flushedAt: number }>();
  private idleTimer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private readonly repo: PreviewsRepo;
  private readonly changeListeners = new Set<(projectId: string) => void | Promise<void>>();

  constructor(private readonly deps: PreviewManagerDeps) {
    this.repo = new PreviewsRepo(deps.db);
  }

  /** Begins the idle sweep and the watch for finished runs (a run on any node notifies every node). */
  start(feed: EventFeed): void {
    const every = Math.max(500, Math.min(60_000, Math.floor(this.deps.idleMs / 4)));
    this.idleTimer = setInterval(() => void this.sweepIdle().catch((err: unknown) => this.deps.logger.warn({ err }, 'preview: idle sweep failed')), every);
    this.idleTimer.unref();
    this.unwatch = feed.onDurableNotice((projectId, seq) => void this.onNotice(projectId, seq));
  }

  /**
   * Called when a preview of this node starts, restarts or stops (its address changes), or a share
   * link of it is revoked: the proxies drop what they remembered.
   */
  onChange(listener: (projectId: string) => void | Promise<void>): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Who may reach the project's preview changed (a share link revoked): resolves once this node's proxies know. */
  accessChanged(projectId: string): Promise<void> {
    return this.changed(projectId);
  }

  get(projectId: string): Promise<PreviewRow | undefined> {
    return this.repo.get(projectId);
  }

  /** Someone looks at a project's preview (the UI's panel asks its status): a start may follow, so what it needs is made ready now. */
  prepare(): void {
    this.deps.runtime?.prepare();
  }

  /** The preview of the project, started when it is not running the workspace's current commit. */
  ensure(userId: string, projectId: string, reason: 'requested' | 'files_changed' = 'requested'): Promise<PreviewRow> {
    return this.lock.run(projectId, async () => {
      const runtime = this.deps.runtime;
      if (!runtime) throw new AppError('E_SANDBOX_UNAVAILABLE', 'Previews need the Docker sandbox, which is off on this node (SAMOKODER_SANDBOX=off).');
      // Independent reads, at once: they are on the path of every start.
      const [command, workspace, current] = await Promise.all([this.startCommand(projectId), this.deps.workspaces.open(projectId), this.repo.get(projectId)]);
      const commit = await workspace.history.headSha();
      const alive = current?.status === 'running' && current.containerId !== null && (await runtime.isRunning(current.containerId));
      if (alive && current.commitSha === commit && reason === 'requested') return current;
      if (current?.containerId) await this.remove(current, undefined);
      // The variables are read while the row and the event are written.
      const [projectEnv] = await Promise.all([
        this.deps.env.open(userId, projectId),
        (async () => {
          await this.repo.starting(projectId, userId, commit);
          await this.changed(projectId);
          await this.event(projectId, 'preview.starting', { commit, reason });
        })(),
      ]);
      const scrub = (text: string): string => scrubSecrets(text, projectEnv);
      const output = new Coalescer((text) => void publishEphemeral(this.deps.db, { projectId, type: 'preview.output', data: { text: scrub(text) } }).catch(() => undefined), 100);
      const result = await runtime.start({
        projectId, ownerId: userId, workspaceDir: workspace.dir, command, projectEnv,
        onOutput: (text) => output.push(text),
        onExit: () => void this.exited(projectId),
      });
      if (result.kind === 'failed') {
        const text = scrub(result.output);
        await this.repo.failed(projectId, tail(text, OUTPUT_CHARS));
        await this.event(projectId, 'preview.failed', { exitCode: result.exitCode, tail: tail(text, TAIL_EVENT_CHARS) });
      } else {
        await this.repo.running(projectId, result);
        await this.changed(projectId);
        await this.event(projectId, 'preview.ready', { commit });
        this.watched.set(projectId, await this.lastSeq(projectId));
      }
      return (await this.repo.get(projectId))!;
    });
  }

  /** Stops the project's preview (DELETE, idle, shutdown). */
  stop(projectId: string, reason: 'requested' | 'idle' | 'shutdown'): Promise<void> {
    return this.lock.run(projectId, async () => {
      const current = await this.repo.get(projectId);
      if (!current || current.status === 'stopped') return;
      await this.remove(current, reason);
    });
  }

  /** Restarts a running preview whose commit is no longer the workspace's (after a revert, a finished run). */
  async refresh(projectId: string): Promise<void> {
    const current = await this.repo.get(projectId);
    if (!current || current.status !== 'running') return;
    const head = await (await this.deps.workspaces.open(projectId)).history.headSha();
    if (head !== current.commitSha) await this.ensure(current.userId, projectId, 'files_changed');
  }

  /** The app's output so far, its variables' values replaced by their names. */
  async output(row: PreviewRow): Promise<string> {
    if (!row.containerId || !this.deps.runtime) return row.output;
    const text = await this.deps.runtime.output(row.containerId);
    return scrubSecrets(text, await this.deps.env.open(row.userId, row.projectId));
  }

  /** A request reached the preview: remembered, written at most every few seconds. */
  touch(projectId: string): void {
    const now = new Date();
    const t = this.touched.get(projectId);
    const flushEvery = Math.min(10_000, Math.floor(this.deps.idleMs / 4));
    if (t && now.getTime() - t.flushedAt < flushEvery) {
      t.at = now;
      return;
    }
    this.touched.set(projectId, { at: now, flushedAt: now.getTime() });
    void this.repo.touch(projectId, now).catch((err: unknown) => this.deps.logger.warn({ err }, 'preview: could not record an access'));
  }

  async sweepIdle(): Promise<void> {
    for (const [projectId, t] of this.touched) await this.repo.touch(projectId, t.at);
    this.touched.clear();
    const idle = await this.repo.idle(new Date(Date.now() - this.deps.idleMs));
    for (const row of idle) await this.stop(row.projectId, 'idle');
  }

  /** Stops the previews this node runs (shutdown); the rows say stopped. */
  async close(): Promise<void> {
    clearInterval(this.idleTimer);
    this.unwatch?.();
    await Promise.all([...this.watched.keys()].map((projectId) => this.stop(projectId, 'shutdown').catch(() => undefined)));
    await this.deps.runtime?.close();
  }

  private async remove(row: PreviewRow, reason: 'requested' | 'idle' | 'shutdown' | 'exited' | undefined): Promise<void> {
    const output = await this.output(row).catch(() => row.output);
    // No proxy of this node routes to the address once the container is gone (it may be reused).
    await this.repo.unroute(row.projectId, row.containerId);
    await this.changed(row.projectId);
    if (row.containerId) await this.deps.runtime?.stop(row.containerId);
    this.watched.delete(row.projectId);
    // A restart (no reason) is followed by its own preview.starting.
    if (reason && (await this.repo.stopped(row.projectId, row.containerId, tail(output, OUTPUT_CHARS)))) await this.event(row.projectId, 'preview.stopped', { reason });
  }

  private async exited(projectId: string): Promise<void> {
    await this.lock.run(projectId, async () => {
      const current = await this.repo.get(projectId);
      if (current?.status !== 'running') return;
      await this.remove(current, 'exited');
    });
  }

  /** The start command of the project's latest run that has an architecture. */
  private async startCommand(projectId: string): Promise<string> {
    const r = await this.deps.db.query<{ architecture: unknown }>(
      'SELECT architecture FROM runs WHERE project_id = $1 AND architecture IS NOT NULL ORDER BY created_at DESC LIMIT 1',
      [projectId],
    );
    const arch = submitArchitectureArgs.safeParse(r.rows[0]?.architecture);
    const command = arch.success ? arch.data.commands.start.trim() : '';
    if (!arch.success) throw new AppError('E_PREVIEW_NO_START', 'This project has no start command yet: generate it first (the architect chooses how the app starts).');
    if (!command) throw new AppError('E_PREVIEW_NO_START', "This project's architecture has an empty start command (it is not a server); ask for a change that makes it serve HTTP on $PORT.");
    return command;
  }

  private async changed(projectId: string): Promise<void> {
    await Promise.all([...this.changeListeners].map((l) => l(projectId)));
  }

  private event<T extends DurableEventType>(projectId: string, type: T, data: EventData<T>): Promise<unknown> {
    return appendEvent(this.deps.db, { projectId, runId: null, type, data } as Parameters<typeof appendEvent<T>>[1]);
  }

  private async lastSeq(projectId: string): Promise<number> {
    const r = await this.deps.db.query<{ last_event_seq: number | string }>('SELECT last_event_seq FROM projects WHERE id = $1', [projectId]);
    return Number(r.rows[0]?.last_event_seq ?? 0);
  }

  /** A run of a previewed project finished (on any node): restart when it changed the files. */
  private async onNotice(projectId: string, seq: number): Promise<void> {
    const since = this.watched.get(projectId);
    if (since === undefined || seq <= since) return;
    this.watched.set(projectId, seq);
    try {
      const r = await this.deps.db.query(`SELECT 1 FROM events WHERE project_id = $1 AND seq > $2 AND seq <= $3 AND type = 'run.finished' LIMIT 1`, [projectId, since, seq]);
      if (r.rowCount > 0) await this.refresh(projectId);
    } catch (err) {
      this.deps.logger.warn({ err, projectId }, 'preview: restart after a run failed');
    }
  }
}
