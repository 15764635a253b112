import type { Logger } from '../../core/logger.js';
import { notFound } from '../../core/errors.js';
import type { Database, Unlisten } from '../port.js';
import { EVENTS_CHANNEL, parseEventNotice, type EphemeralEvent, type EventsRepo, type ProjectEvent } from './events.js';

export interface FeedListener {
  /** Project's events up to `seq` are committed (a wake-up: read the rows from the database). */
  onDurable?(seq: number): void;
  onEphemeral?(event: EphemeralEvent): void;
}

/**
 * One LISTEN per node on EVENTS_CHANNEL, fanned out in process to the listeners of each
 * project, so a thousand WebSocket subscribers cost one database connection, not a thousand.
 * The events may come from a run on any node: NOTIFY reaches every node listening.
 */
export class EventFeed {
  private readonly listeners = new Map<string, Set<FeedListener>>();
  private unlisten: Unlisten | undefined;

  constructor(private readonly db: Database, private readonly logger?: Logger) {}

  async start(): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, (payload) => this.dispatch(payload));
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    this.listeners.clear();
    await unlisten?.();
  }

  /** Returns the unsubscribe function. The caller checks the user may see the project. */
  subscribe(projectId: string, listener: FeedListener): () => void {
    let set = this.listeners.get(projectId);
    if (!set) {
      set = new Set();
      this.listeners.set(projectId, set);
    }
    set.add(listener);
    return () => {
      const s = this.listeners.get(projectId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.listeners.delete(projectId);
    };
  }

  get subscriberCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  private dispatch(payload: string): void {
    const notice = parseEventNotice(payload);
    if (!notice) return;
    const projectId = notice.kind === 'durable' ? notice.projectId : notice.event.projectId;
    for (const l of this.listeners.get(projectId) ?? []) {
      try {
        if (notice.kind === 'durable') l.onDurable?.(notice.seq);
        else l.onEphemeral?.(notice.event);
      } catch (err) {
        this.logger?.warn({ err, projectId }, 'event listener threw');
      }
    }
  }
}

export interface FollowOptions {
  feed: EventFeed;
  /** An EventsRepo on the Database (not a transaction). */
  events: EventsRepo;
  projectId: string;
  userId: string;
  /** The last seq the client has; every later durable event is delivered. */
  since: number;
  /** Each durable event after `since`, exactly once, in seq order; awaited before the next. */
  onEvent(event: ProjectEvent): void | Promise<void>;
  onEphemeral?(event: EphemeralEvent): void;
  /** A read or onEvent failed; following continues at the next wake-up or resync. */
  onError?(err: unknown): void;
  /** Rows per read (default 500). */
  batchSize?: number;
  /**
   * Safety re-read period in ms (default 5000; 0 disables). NOTIFY is a wake-up that can be lost
   * (e.g. while the LISTEN connection reconnects); the periodic read bounds the delay then.
   */
  resyncMs?: number;
}

export interface Following {
  /** The last seq delivered. */
  readonly cursor: number;
  stop(): void;
}

/**
 * Replays a project's durable events after `since` from the database, then follows live ones,
 * with no gap and no duplicate at the seam. It subscribes *before* the first read, so an event
 * committed during the replay still wakes it, and every delivery comes from a database read of
 * `seq > cursor`, so the same event can never be delivered twice nor a notice's loss skip one.
 * Reads never overlap (one drain at a time); sequence numbers commit in order per project (see
 * EventsRepo.append), so a read never sees seq n+1 before n.
 * @throws E_NOT_FOUND when the project is missing or not the user's.
 */
export async function followProjectEvents(opts: FollowOptions): Promise<Following> {
  const batch = opts.batchSize ?? 500;
  let cursor = opts.since;
  let stopped = false;
  let draining: Promise<void> | undefined;
  let again = false;

  const drain = (): void => {
    if (stopped) return;
    if (draining) {
      again = true;
      return;
    }
    draining = (async () => {
      do {
        again = false;
        try {
          for (;;) {
            const rows = await opts.events.listSince(opts.projectId, opts.userId, cursor, batch);
            for (const e of rows) {
              if (stopped) return;
              await opts.onEvent(e);
              cursor = e.seq;
            }
            if (rows.length < batch) break;
          }
        } catch (err) {
          opts.onError?.(err);
        }
      } while (again && !stopped);
    })().finally(() => {
      draining = undefined;
    });
  };

  const unsubscribe = opts.feed.subscribe(opts.projectId, {
    onDurable: (seq) => {
      if (seq > cursor) drain();
    },
    onEphemeral: (e) => opts.onEphemeral?.(e),
  });
  if ((await opts.events.lastSeq(opts.projectId, opts.userId)) === undefined) {
    unsubscribe();
    throw notFound('project');
  }
  const resyncMs = opts.resyncMs ?? 5000;
  const timer = resyncMs > 0 ? setInterval(drain, resyncMs) : undefined;
  timer?.unref();
  drain();
  return {
    get cursor() {
      return cursor;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
    },
  };
}
