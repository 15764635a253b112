import type { Logger } from '../../core/logger.js';
import type { PreviewManager } from '../manager.js';
import { PreviewsRepo, SharesRepo } from '../repo.js';
import type { Database } from '../../db/port.js';
import { ACTIVITY_TABLE } from './config.js';
import type { HaproxyProcess } from './process.js';

/** How often the maps are compared with the database: another node's starts, stops and revocations reach this node's HAProxy within this. */
export const SYNC_EVERY_MS = 1000;

/**
 * Keeps HAProxy's two maps equal to the database (project → running preview's address; active
 * share link → its project) and reports the previews it served to the manager (idle stop).
 * Changes made on this node are pushed at once (manager.onChange); the rest within SYNC_EVERY_MS.
 * Until a preview is in the map its requests take the Node path, which reads the database itself.
 */
export class RouteSync {
  private readonly previews: PreviewsRepo;
  private readonly shares: SharesRepo;
  /** What HAProxy holds now, as pushed. */
  private routes = new Map<string, string>();
  private activeShares = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** The last sync asked for, and the one that has not begun yet (it will read the database after any change made so far). */
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: { db: Database; haproxy: HaproxyProcess; manager: PreviewManager; logger: Logger }) {
    this.previews = new PreviewsRepo(deps.db);
    this.shares = new SharesRepo(deps.db);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.deps.manager.onChange(() => this.syncNow());
    this.deps.haproxy.onRestart(() => {
      this.routes = new Map();
      this.activeShares = new Map();
      this.counts.clear();
      void this.syncNow();
    });
    await this.syncNow();
    this.timer = setInterval(() => void this.syncNow(), SYNC_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Resolves after a sync that began after this call (so it saw every change made before it). One
   * sync at a time: callers while one runs share the next.
   */
  syncNow(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.tail.then(() => {
      this.queued = undefined;
      return this.sync().catch((err: unknown) => this.deps.logger.warn({ err }, 'preview data plane: sync failed'));
    });
    this.queued = next;
    this.tail = next;
    return next;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.tail;
  }

  private async sync(): Promise<void> {
    const { admin, routesMap, sharesMap } = this.deps.haproxy;
    const [routes, shares] = await Promise.all([this.previews.routes(), this.shares.active()]);
    const changes = [...diff(routesMap, this.routes, routes), ...diff(sharesMap, this.activeShares, shares)];
    if (changes.length) await admin.change(changes);
    this.routes = routes;
    this.activeShares = shares;
    await this.reportActivity();
  }

  /** Previews whose request count grew since the last look were used: the manager is told (it defers the idle stop). */
  private async reportActivity(): Promise<void> {
    const table = await this.deps.haproxy.admin.run([`show table ${ACTIVITY_TABLE}`]);
    for (const m of table.matchAll(/ key=(\S+) .*?http_req_cnt=(\d+)/g)) {
      const [, projectId, n] = m as unknown as [string, string, string];
      const count = Number(n);
      if (this.counts.get(projectId) !== count) this.deps.manager.touch(projectId);
      this.counts.set(projectId, count);
    }
  }
}

/** The runtime API commands that turn `from` into `to` in the map file `map`. */
function diff(map: string, from: Map<string, string>, to: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [key, value] of to) {
    // One command per line item: a key or value with a separator in it would be another command.
    if (/[\s;]/.test(key + value)) continue;
    const was = from.get(key);
    if (was === undefined) out.push(`add map ${map} ${key} ${value}`);
    else if (was !== value) out.push(`set map ${map} ${key} ${value}`);
  }
  for (const key of from.keys()) if (!to.has(key)) out.push(`del map ${map} ${key}`);
  return out;
}
