import type { Database, Unlisten } from '../../db/port.js';
import type { EventFeed } from '../../db/repos/event-feed.js';
import type { SerializedJson } from '../http/serialized-json.js';

/** Where migration 0003's triggers send the id of a user whose projects changed. */
export const PROJECTS_CHANGED_CHANNEL = 'projects_changed';

/**
 * How long a node trusts a cached page without hearing about it. Invalidation is by notice
 * (below); this only bounds the damage of a notice lost while the LISTEN connection was down.
 */
const TTL_MS = 10_000;
const MAX_USERS = 10_000;
/** Pages per user (first page, a few cursors, other limits); the oldest goes first. */
const MAX_PAGES_PER_USER = 16;

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
  private unlisten: Unlisten | undefined;
  private stopFeed: (() => void) | undefined;

  static async start(db: Database, feed: EventFeed): Promise<ProjectListCache> {
    const cache = new ProjectListCache();
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
    const page = this.users.get(userId)?.get(pageKey);
    if (!page) return undefined;
    if (page.cachedUntil > now.getTime()) return page.body;
    this.drop(userId);
    return undefined;
  }

  /** Caches a page read from the database, unless a drop happened since the read began. */
  remember(userId: string, pageKey: string, page: { body: SerializedJson; projectIds: readonly string[] }, generation: number, now: Date): void {
    if (generation !== this.generation) return;
    let pages = this.users.get(userId);
    if (!pages) {
      if (this.users.size >= MAX_USERS) this.drop(this.users.keys().next().value!);
      this.users.set(userId, (pages = new Map()));
    }
    if (pages.size >= MAX_PAGES_PER_USER) pages.delete(pages.keys().next().value!);
    pages.set(pageKey, { body: page.body, projectIds: page.projectIds, cachedUntil: now.getTime() + TTL_MS });
    for (const id of page.projectIds) this.owners.set(id, userId);
  }

  /** Forgets the user's pages (on a notice, or right after this node changed the user's projects). */
  drop(userId: string): void {
    this.generation++;
    const pages = this.users.get(userId);
    if (!pages) return;
    this.users.delete(userId);
    for (const page of pages.values()) for (const id of page.projectIds) if (this.owners.get(id) === userId) this.owners.delete(id);
  }

  async stop(): Promise<void> {
    this.stopFeed?.();
    await this.unlisten?.();
    this.users.clear();
    this.owners.clear();
  }
}
