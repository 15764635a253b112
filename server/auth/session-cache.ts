import type { Database, Unlisten } from '../../db/port.js';
import type { TokenSession } from '../../db/repos/users.js';

/** Where migration 0002's triggers send the id of a user whose sessions changed. */
export const AUTH_CHANGED_CHANNEL = 'auth_changed';

/**
 * How long a node trusts a cached session without hearing about it. Invalidation is by notice
 * (below); this only bounds the damage of a notice lost while the LISTEN connection was down.
 */
const TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;
/** How long a revocation waits for its own notice to come back (see changing()). */
const ECHO_TIMEOUT_MS = 2_000;

interface Entry {
  session: TokenSession;
  cachedUntil: number;
}

/**
 * Session tokens already looked up, by token hash, so an authenticated request costs no database
 * round trip. Every node LISTENs on AUTH_CHANGED_CHANNEL, which the database notifies on commit
 * of any change to a user's tokens or account, and drops that user's sessions: a token revoked on
 * one node is refused by every node as soon as the notice arrives, and the node that revoked it
 * waits for the notice before answering.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a lookup that started before one must not be cached. */
  private generation = 0;
  private readonly echoes = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<(userId: string) => void>();
  private unlisten: Unlisten | undefined;

  static async start(db: Database): Promise<SessionCache> {
    const cache = new SessionCache();
    cache.unlisten = await db.listen(AUTH_CHANGED_CHANNEL, (userId) => cache.onNotice(userId));
    return cache;
  }

  /** The generation to pass to remember() for a lookup starting now. */
  get currentGeneration(): number {
    return this.generation;
  }

  get(tokenHash: string, now: Date): TokenSession | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.cachedUntil <= now.getTime() || entry.session.expiresAt <= now) {
      this.entries.delete(tokenHash);
      return undefined;
    }
    return entry.session;
  }

  /** Caches a session read from the database, unless an invalidation arrived since the read began. */
  remember(tokenHash: string, session: TokenSession, generation: number, now: Date): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    // Shared by every request the entry serves: nobody may change it in place.
    Object.freeze(session.user);
    this.entries.set(tokenHash, { session, cachedUntil: now.getTime() + TTL_MS });
  }

  /**
   * Runs `change` (a write to the user's tokens or account that returns whether it changed a row),
   * drops the user's sessions here at once, then waits until the database's notice has come back
   * through this node's LISTEN. PostgreSQL signals every listening connection at the same commit,
   * so by then the other nodes have it too (or within the same instant): the caller's next
   * request, to any node, sees the change.
   */
  async changing(userId: string, change: () => Promise<boolean>): Promise<void> {
    let done!: () => void;
    const echoed = new Promise<void>((resolve) => (done = resolve));
    // Registered before the write: the notice may come back before the write's own reply.
    let waiters = this.echoes.get(userId);
    if (!waiters) this.echoes.set(userId, (waiters = new Set()));
    waiters.add(done);
    const timer = setTimeout(done, ECHO_TIMEOUT_MS);
    try {
      if (!(await change())) return;
      this.drop(userId);
      await echoed;
    } finally {
      clearTimeout(timer);
      waiters.delete(done);
      if (waiters.size === 0 && this.echoes.get(userId) === waiters) this.echoes.delete(userId);
    }
  }

  /**
   * Calls `listener` with the user's id after every change notice (e.g. to re-check that user's
   * open WebSockets). Returns the function that removes it.
   */
  onUserChanged(listener: (userId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.entries.clear();
  }

  private onNotice(userId: string): void {
    this.drop(userId);
    for (const done of this.echoes.get(userId) ?? []) done();
    for (const listener of this.listeners) listener(userId);
  }

  private drop(userId: string): void {
    this.generation++;
    for (const [hash, entry] of this.entries) if (entry.session.user.id === userId) this.entries.delete(hash);
  }
}
