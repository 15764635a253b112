// A project's live event stream in the browser: the shared follower (protocol/follower.ts) over
// the page's WebSocket, with the token in the query (browsers cannot set headers on a WebSocket),
// reconnecting at once when the browser comes back online.
import { ProjectFollower, type FollowerStatus } from '../../protocol/follower.js';
import type { EventFrame } from '../../protocol/ws-frames.js';

export type StreamEvent = EventFrame;
export type StreamStatus = FollowerStatus;

export interface StreamOptions {
  projectId: string;
  token: string;
  /** The last seq already seen (0: from the beginning). */
  since: number;
  onEvent(e: StreamEvent): void;
  onStatus?(s: StreamStatus, detail?: string): void;
}

export class ProjectStream {
  private readonly follower: ProjectFollower;
  private readonly onOnline = () => this.follower.reconnectNow();

  constructor(opts: StreamOptions) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}/ws?token=${encodeURIComponent(opts.token)}`;
    this.follower = new ProjectFollower({ projectId: opts.projectId, since: opts.since, open: () => new WebSocket(url), onEvent: opts.onEvent, ...(opts.onStatus ? { onStatus: opts.onStatus } : {}) });
    window.addEventListener('online', this.onOnline);
  }

  get seq() {
    return this.follower.seq;
  }

  /** Sockets opened so far (1 + reconnects). */
  get opened() {
    return this.follower.opened;
  }

  /** Closes the socket as a network failure would (the stream reconnects by itself). */
  drop() {
    this.follower.drop();
  }

  close() {
    window.removeEventListener('online', this.onOnline);
    this.follower.close();
  }
}
