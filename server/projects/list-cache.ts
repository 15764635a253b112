import type { Database, Unlisten } from '../../db/port.js';
import type { EventFeed } from '../../events/event-feed.js';
import type { SerializedJson } from '../http/serialized-json.js';

/** Where migration 0003's triggers send the id of a user whose projects changed. */
export const PROJECTS_CHANGED_CHANNEL = 'projects_changed';

/**
 * How long a node trusts a cached page without hearing about it. Invalidation is by notice
 * (below); this only bounds the damage of a notice lost while the LISTEN connection was down.
 */
const TTL_MS = 10_000;
/** Pages per user (first page, a few cursors, other limits); the oldest goes first. */
const MAX_PAGES_PER_USER = 16;
/**
 * The cache's memory: a page can hold up to 100 projects with 20,000-character prompts, so it is
 * bounded by bytes, not entries; past this, the users cached longest ago are forgotten first.
 */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

interface CachedPage {
  /** Serialised once: every answer from the cache sends the same bytes and ETag. */
  body: SerializedJson;
  projectIds: readonly string[];
  cachedUntil: number;
}

/**
 * Pages of `GET /api/projects` already answered, per user, so listing costs no database round
 * trip until something in the list changes. Two notices, both sent on commit, drop a user's pages
 * on every node: PROJECTS_CHANGED_CHANNEL (migration 0003's triggers: a project created, deleted,
 * renamed, its webhook set…) and the durable-event notice of a project on a cached page (its
 * `lastEventSeq` moved). The node that made a change also drops the pages itself right after the
 * commit (`drop`), so its next answer never lags its own write; other nodes drop them when the
 * notice arrives, at about the same moment.
 */
export class ProjectListCache {
  private readonly users = new Map<string, Map<string, CachedPage>>();
  /** Owner of every project on a cached page: an event notice names only the project. */
  private readonly owners = new Map<string, string>();
  /** Bumped by every drop: a read that started before one must not be cached. */
  private generation = 0;
  private bytes = 0;
  private unlisten: Unlisten | undefined;
  private stopFeed: (() => void) | undefined;

  private constructor(private readonly maxBytes: number) {}

  static async start(db: Database, feed: EventFeed, options: { maxBytes?: number } = {}): Promise<ProjectListCache> {
    const cache = new ProjectListCache(options.maxBytes ?? DEFAULT_MAX_BYTES);
    cache.unlisten = await db.listen(PROJECTS_CHANGED_CHANNEL, (userId) => cache.drop(userId));
    cache.stopFeed = feed.onDurableNotice((projectId) => {
      const owner = cache.owners.get(projectId);
      if (owner !== undefined) cache.drop(owner);
    });
    return cache;
  }

  /** The generation to pass to remember() for a read starting now. */
  get currentGeneration(): number {
    return this.generation;
  }

  get(userId: string, pageKey: string, now: Date): SerializedJson | undefined {
    const pages = this.users.get(userId);
    const page = pages?.get(pageKey);
    if (!page) return undefined;
    if (page.cachedUntil > now.getTime()) return page.body;
    // Only this page is stale, and nothing is known to have changed: no drop, no generation bump.
    this.forget(userId, pages!, pageKey, page);
    return undefined;
  }

  /** Caches a page read from the database, unless a drop happened since the read began. */
  remember(userId: string, pageKey: string, page: { body: SerializedJson; projectIds: readonly string[] }, generation: number, now: Date): void {
    if (generation !== this.generation) return;
    let pages = this.users.get(userId);
    if (!pages) this.users.set(userId, (pages = new Map()));
    const replaced = pages.get(pageKey);
    if (replaced) this.bytes -= replaced.body.bytes.length;
    else if (pages.size >= MAX_PAGES_PER_USER) this.forget(userId, pages, pages.keys().next().value!);
    pages.set(pageKey, { body: page.body, projectIds: page.projectIds, cachedUntil: now.getTime() + TTL_MS });
    this.bytes += page.body.bytes.length;
    for (const id of page.projectIds) this.owners.set(id, userId);
    // Never the user just cached: a page above the budget alone is still served once.
    for (const oldest of this.users.keys()) {
      if (this.bytes <= this.maxBytes || oldest === userId) break;
      this.evict(oldest);
    }
  }

  /** How many bytes of JSON the cache holds (for tests and metrics). */
  get size(): number {
    return this.bytes;
  }

  /** How many users have pages cached (for tests and metrics). */
  get userCount(): number {
    return this.users.size;
  }

  /** Forgets the user's pages (on a notice, or right after this node changed the user's projects). */
  drop(userId: string): void {
    this.generation++;
    this.evict(userId);
  }

  private evict(userId: string): void {
    const pages = this.users.get(userId);
    if (!pages) return;
    this.users.delete(userId);
    for (const page of pages.values()) {
      this.bytes -= page.body.bytes.length;
      this.disown(userId, page);
    }
  }

  /**
   * One page out. The user's other pages stay, so its projects keep their owner entry; a user left
   * with none is forgotten whole, or every user who ever listed would keep an entry.
   */
  private forget(userId: string, pages: Map<string, CachedPage>, pageKey: string, page = pages.get(pageKey)): void {
    if (!page) return;
    pages.delete(pageKey);
    this.bytes -= page.body.bytes.length;
    if (pages.size > 0) return;
    this.users.delete(userId);
    this.disown(userId, page);
  }

  private disown(userId: string, page: CachedPage): void {
    for (const id of page.projectIds) if (this.owners.get(id) === userId) this.owners.delete(id);
  }

  async stop(): Promise<void> {
    this.stopFeed?.();
    await this.unlisten?.();
    this.users.clear();
    this.owners.clear();
    this.bytes = 0;
  }
}
