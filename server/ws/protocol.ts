import { z } from 'zod';
import type { EphemeralEvent, ProjectEvent } from '../../events/event-log.js';

/**
 * The WebSocket protocol on `/ws` (documented in docs/api.md, "WebSocket").
 *
 * Client → server frames are JSON objects validated here; a malformed one gets an `error` frame
 * and the connection stays usable. Server → client frames are events, whose `type` always has a
 * dot (`run.queued`, `llm.delta`), or control frames, whose `type` never does (`subscribed`,
 * `unsubscribed`, `pong`, `error`).
 */

/** Largest client frame accepted; a bigger one closes the connection with 1009 (the ws package does). */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;
/** Projects one connection may follow at once. */
export const MAX_SUBSCRIPTIONS = 50;

/** Close codes the server uses (4000–4999 are the application's own). */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect (to another node) and resubscribe with your last seq. */
  GOING_AWAY: 1001,
  /** A client frame over MAX_CLIENT_FRAME_BYTES. */
  TOO_BIG: 1009,
  /** The token the socket opened with was revoked or expired (or its account deleted): log in again, then reconnect. */
  UNAUTHORIZED: 4001,
  /** The client read too slowly: its unsent frames passed SAMOKODER_WS_MAX_BUFFERED_BYTES. Reconnect with your last seq. */
  SLOW_CONSUMER: 4008,
} as const;

const projectId = z.uuid({ message: 'must be a project id (a UUID)' });

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('subscribe'),
    projectId,
    since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).meta({ description: 'The last seq you have; 0 for everything' }),
  }),
  z.object({ type: z.literal('unsubscribe'), projectId }),
  // Browsers cannot send protocol pings; this one answers `pong` with the same id.
  z.object({ type: z.literal('ping'), id: z.union([z.string().max(100), z.number()]).optional() }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

export interface DurableFrame {
  seq: number;
  projectId: string;
  runId: string | null;
  type: string;
  at: string;
  data: unknown;
}

/** Ephemeral events (`llm.delta`, command output…) carry no seq: they are not replayed. */
export interface EphemeralFrame {
  projectId: string;
  runId: string | null;
  type: string;
  at: string;
  data: unknown;
  truncated?: true;
}

export type ControlFrame =
  | { type: 'subscribed'; projectId: string; since: number }
  | { type: 'unsubscribed'; projectId: string }
  | { type: 'pong'; id?: string | number }
  | { type: 'error'; code: string; message: string; projectId?: string };

export type ServerFrame = DurableFrame | EphemeralFrame | ControlFrame;

export const durableFrame = (e: ProjectEvent): DurableFrame => ({
  seq: e.seq,
  projectId: e.projectId,
  runId: e.runId,
  type: e.type,
  at: e.at.toISOString(),
  data: e.data,
});

let lastEvent: EphemeralEvent | undefined;
let lastText = '';

/**
 * The JSON text of an ephemeral event's frame, computed once per event: the feed hands the same
 * event object to every subscriber of the project on this node, one after the other in one
 * synchronous loop, so remembering the last event is enough for a fan-out to 1,000 sockets to
 * serialise it once. (A WeakMap keyed by event did the same, but its entry per delta is an
 * ephemeron the young-generation GC must trace: at 5,000 deltas/s that made each scavenge slower.)
 */
export function ephemeralFrameText(e: EphemeralEvent): string {
  if (e !== lastEvent) {
    lastText = JSON.stringify(ephemeralFrame(e));
    lastEvent = e;
  }
  return lastText;
}

export const ephemeralFrame = (e: EphemeralEvent): EphemeralFrame => ({
  projectId: e.projectId,
  runId: e.runId,
  type: e.type,
  at: e.at instanceof Date && !Number.isNaN(e.at.getTime()) ? e.at.toISOString() : new Date().toISOString(),
  data: e.data,
  ...(e.truncated ? { truncated: true as const } : {}),
});
