import type { Logger } from '../core/logger.js';
import { notFound } from '../core/errors.js';
import type { Database, Unlisten } from '../db/port.js';
import { EVENTS_CHANNEL, parseEventNotice, type EphemeralEvent, type EventNotice, type EventsRepo, type ProjectEvent } from './event-log.js';

export interface FeedListener {
  /** Project's events up to `seq` are committed (a wake-up: read the rows from the database). */
  onDurable?(seq: number): void;
  onEphemeral?(event: EphemeralEvent): void;
}

export interface EventFeedOptions {
  /**
   * Safety re-read period in ms (default 5000; 0 disables). NOTIFY is a wake-up that can be lost
   * (e.g. while the LISTEN connection reconnects); every period, one read of the subscribed
   * projects' last seqs wakes the listeners of any project that moved, bounding the delay then.
   */
  resyncMs?: number;
}

/**
 * One LISTEN per node on EVENTS_CHANNEL, fanned out in process to the listeners of each
 * project, so a thousand WebSocket subscribers cost one database connection, not a thousand.
 * The events may come from a run on any node: NOTIFY reaches every node listening. The safety
 * re-read is shared the same way: one statement per period for all subscribed projects.
 */
export class EventFeed {
  private readonly listeners = new Map<string, Set<FeedListener>>();
  private readonly durableNoticeListeners = new Set<(projectId: string, seq: number) => void>();
  private unlisten: Unlisten | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing = false;

  constructor(
    private readonly db: Database,
    private readonly logger?: Logger,
    private readonly options: EventFeedOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, (payload) => this.dispatch(payload));
    const resyncMs = this.options.resyncMs ?? 5000;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => void this.resync(), resyncMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.listeners.clear();
    this.durableNoticeListeners.clear();
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

  /**
   * Calls `listener` with every durable-event notice this node receives, whatever the project
   * (e.g. to drop cached data that shows a project's last seq). Returns the function that removes it.
   */
  onDurableNotice(listener: (projectId: string, seq: number) => void): () => void {
    this.durableNoticeListeners.add(listener);
    return () => this.durableNoticeListeners.delete(listener);
  }

  get subscriberCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  private dispatch(payload: string): void {
    const notice = parseEventNotice(payload);
    if (!notice) return;
    if (notice.kind === 'durable') for (const l of this.durableNoticeListeners) this.guarded(notice.projectId, () => l(notice.projectId, notice.seq));
    this.deliver(notice);
  }

  private deliver(notice: EventNotice): void {
    const projectId = notice.kind === 'durable' ? notice.projectId : notice.event.projectId;
    for (const l of this.listeners.get(projectId) ?? []) {
      this.guarded(projectId, () => (notice.kind === 'durable' ? l.onDurable?.(notice.seq) : l.onEphemeral?.(notice.event)));
    }
  }

  /** One listener's failure must not keep the notice from the others. */
  private guarded(projectId: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger?.warn({ err, projectId }, 'event listener threw');
    }
  }

  /**
   * The subscribed projects' last seqs, delivered as if their notices had arrived: a listener
   * that is already past one ignores it, one that missed a notice reads what it missed. Skipped
   * while the previous re-read is still running.
   */
  private async resync(): Promise<void> {
    if (this.resyncing || this.listeners.size === 0) return;
    this.resyncing = true;
    try {
      const res = await this.db.query<{ id: string; last_event_seq: number | string }>(
        'SELECT id, last_event_seq FROM projects WHERE id = ANY($1::uuid[])',
        [[...this.listeners.keys()]],
      );
      for (const row of res.rows) this.deliver({ kind: 'durable', projectId: row.id, seq: Number(row.last_event_seq) });
    } catch (err) {
      // The next period tries again; a lost notice waits one period more.
      this.logger?.warn({ err }, 'event feed re-read failed');
    } finally {
      this.resyncing = false;
    }
  }
}

export interface FollowOptions {
  feed: EventFeed;
  /** An EventsRepo on the Database (not a transaction), or a reader wrapping one. */
  events: Pick<EventsRepo, 'listSince' | 'lastSeq'>;
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
  drain();
  return {
    get cursor() {
      return cursor;
    },
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}
