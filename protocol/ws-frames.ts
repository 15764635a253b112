import type { DurableEventType, EphemeralEventType, EventData } from './event-catalogue.js';
import type { ClientFrame, ControlFrame } from './ws-frame-schemas.js';

export type { ClientFrame, ControlFrame };

/**
 * The WebSocket protocol on `/ws`.
 *
 * Client → server frames are JSON objects validated by clientFrameSchema (ws-frame-schemas.ts);
 * a malformed one gets an `error` frame and the connection stays usable. Server → client frames are events, whose `type`
 * always has a dot (`run.queued`, `llm.delta`; see event-catalogue.ts), or control frames, whose
 * `type` never does (`subscribed`, `unsubscribed`, `pong`, `error`).
 *
 * This file has no runtime dependency (the zod schemas are in ws-frame-schemas.ts), so a client
 * bundle that follows a project carries no validation library.
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

/** A durable event: `seq` is the project's gapless sequence number (resubscribe with the last one seen). */
export type DurableFrame<T extends DurableEventType = DurableEventType> = {
  [K in T]: { seq: number; projectId: string; runId: string | null; type: K; at: string; data: EventData<K> };
}[T];

/** Ephemeral events (`llm.delta`, `command.output`) carry no seq: they are not replayed. */
export type EphemeralFrame<T extends EphemeralEventType = EphemeralEventType> = {
  [K in T]: {
    projectId: string;
    runId: string | null;
    type: K;
    at: string;
    data: EventData<K>;
    /** Set when string fields of `data` were cut (or `data` emptied) to fit the NOTIFY payload limit. */
    truncated?: true;
  };
}[T];

export type EventFrame = DurableFrame | EphemeralFrame;

export type ServerFrame = EventFrame | ControlFrame;

/** Event types have a dot, control frame types never do. */
export const isEventFrameType = (type: string): boolean => type.includes('.');
