import { CLOSE_CODES, isEventFrameType, type ClientFrame, type ControlFrame, type EventFrame } from './ws-frames.js';

/**
 * The one client of `/ws` that follows a project, for the web UI (the browser's WebSocket) and
 * the CLI (the `ws` package) alike: the socket comes from an injected `open()`, so nothing here
 * depends on either runtime.
 *
 * Durable events carry the project's gapless seq: the follower remembers the last one it
 * delivered, subscribes from it after every reconnect (with exponential backoff and jitter), and
 * drops anything at or below it, so each durable event is delivered exactly once and in order.
 * Ephemeral events (llm.delta, command.output) have no seq; those sent while disconnected are
 * missed, which is what they are for.
 */

/**
 * What the follower needs of a socket. Both the browser's WebSocket and the ws package's have
 * these handler properties with compatible events (`data`; `code`, `reason`), but their declared
 * types differ, so they are taken as unknown here and set through FollowerHandlers.
 */
export interface FollowerSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: unknown;
  onmessage: unknown;
  onclose: unknown;
  onerror: unknown;
}

interface FollowerHandlers {
  onopen: () => void;
  onmessage: (ev: { data: unknown }) => void;
  onclose: (ev: { code: number; reason: string }) => void;
  onerror: () => void;
}

export type FollowerStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface FollowerOptions {
  projectId: string;
  /** The last seq already seen (0: from the beginning). */
  since?: number;
  /** Opens a socket to `/ws` with the caller's credentials (a query token, or a header). */
  open(): FollowerSocket;
  onEvent(e: EventFrame): void;
  /** `subscribed`, `pong`, `error` (e.g. E_NOT_FOUND for a project that is not the caller's). */
  onControl?(f: ControlFrame): void;
  onStatus?(s: FollowerStatus, detail?: string): void;
  /** Reconnect delays: base · 2^attempt (attempt capped at 5), at most maxMs, ±25% jitter. */
  backoff?: { baseMs: number; maxMs: number };
}

const DEFAULT_BACKOFF = { baseMs: 250, maxMs: 5000 };

export class ProjectFollower {
  private socket: FollowerSocket | undefined;
  private lastSeq: number;
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Sockets opened so far (1 + reconnects). */
  opened = 0;

  constructor(private readonly opts: FollowerOptions) {
    this.lastSeq = opts.since ?? 0;
    this.connect();
  }

  /** The last durable seq delivered. */
  get seq(): number {
    return this.lastSeq;
  }

  get closed(): boolean {
    return this.stopped;
  }

  /** Closes the socket as a network failure would (the follower reconnects by itself). */
  drop(): void {
    this.socket?.close(4000, 'dropped');
  }

  /** Reconnects at once if waiting to (e.g. the browser is back online). */
  reconnectNow(): void {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.connect();
  }

  close(detail?: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'done');
    this.opts.onStatus?.('closed', detail);
  }

  private connect(): void {
    if (this.stopped) return;
    this.opts.onStatus?.(this.attempt ? 'reconnecting' : 'connecting');
    const socket = this.opts.open();
    this.socket = socket;
    const handlers = socket as FollowerSocket & FollowerHandlers;
    handlers.onopen = () => {
      this.attempt = 0;
      this.opened++;
      const subscribe: ClientFrame = { type: 'subscribe', projectId: this.opts.projectId, since: this.lastSeq };
      socket.send(JSON.stringify(subscribe));
      this.opts.onStatus?.('live');
    };
    handlers.onmessage = (m) => {
      if (this.socket === socket) this.receive(m.data);
    };
    handlers.onerror = () => undefined; // a close follows
    handlers.onclose = (ev) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      // The token was revoked or expired: reconnecting with it would only be refused.
      if (ev.code === CLOSE_CODES.UNAUTHORIZED) return this.close('signed out: log in again');
      this.scheduleReconnect(ev.reason || `code ${ev.code}`);
    };
  }

  private receive(raw: unknown): void {
    let frame: { type?: unknown; projectId?: unknown; seq?: unknown; data?: unknown };
    try {
      frame = JSON.parse(String(raw)) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame?.type !== 'string') return;
    if (!isEventFrameType(frame.type)) return this.opts.onControl?.(frame as ControlFrame);
    if (frame.projectId !== this.opts.projectId) return;
    if (typeof frame.seq === 'number') {
      if (frame.seq <= this.lastSeq) return; // already delivered (replayed after a reconnect)
      this.lastSeq = frame.seq;
    }
    frame.data ??= {};
    this.opts.onEvent(frame as EventFrame);
  }

  private scheduleReconnect(detail: string): void {
    this.attempt++;
    const { baseMs, maxMs } = this.opts.backoff ?? DEFAULT_BACKOFF;
    const delay = Math.min(maxMs, baseMs * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() / 2);
    this.opts.onStatus?.('reconnecting', detail);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
