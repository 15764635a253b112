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

  constructor(wsUrl: string, token: string, projectId: string, onEvent: (e: RunEvent) => void) {
    this.follower = new ProjectFollower({
      projectId,
      open: () => new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } }),
      onEvent,
      backoff: { baseMs: 200, maxMs: 5000 },
    });
  }

  stop(): void {
    this.follower.close();
  }
}
