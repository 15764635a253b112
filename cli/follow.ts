import WebSocket from 'ws';
import { ProjectFollower } from '../protocol/follower.js';
import type { EventFrame } from '../protocol/ws-frames.js';

export type RunEvent = EventFrame;

/**
 * Follows a project's events over the WebSocket: the shared follower (protocol/follower.ts) on a
 * `ws` socket that sends the token as a bearer header. After a dropped connection it resubscribes
 * from the last seq seen, so each durable event is delivered once, in order. A revoked token stops
 * it (the command's polling of the run gets the 401 and reports it).
 */
export class EventFollower {
  private readonly follower: ProjectFollower;

  /** `since`: the last seq already seen (default 0: every event); `onSubscribed`: each time the server confirms the subscription. */
  constructor(wsUrl: string, token: string, projectId: string, onEvent: (e: RunEvent) => void, options: { since?: number; onSubscribed?: () => void } = {}) {
    this.follower = new ProjectFollower({
      projectId,
      since: options.since ?? 0,
      open: () => new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } }),
      onEvent,
      onControl: (f) => {
        if (f.type === 'subscribed') options.onSubscribed?.();
      },
      backoff: { baseMs: 200, maxMs: 5000 },
    });
  }

  stop(): void {
    this.follower.close();
  }
}
