// A project's live event stream over the WebSocket. Durable events carry a per-project seq: the
// stream remembers the last one it delivered, subscribes from it after every reconnect, and drops
// anything at or below it, so each durable event is delivered exactly once and in order.
// Ephemeral events (llm.delta, …) have no seq; those sent while disconnected are simply missed.

export interface StreamEvent {
  seq?: number;
  projectId: string;
  runId: string | null;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface StreamOptions {
  projectId: string;
  token: string;
  /** The last seq already seen (0: from the beginning). */
  since: number;
  onEvent(e: StreamEvent): void;
  onStatus?(s: StreamStatus, detail?: string): void;
}

const MAX_DELAY_MS = 5000;
/** The server's close code for a socket whose token no longer passes (docs/api.md, "WebSocket"). */
const SIGNED_OUT = 4001;

export class ProjectStream {
  private ws: WebSocket | undefined;
  private lastSeq: number;
  private stopped = false;
  private attempt = 0;
  /** Sockets opened so far (1 + reconnects). */
  opened = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onOnline = () => this.reconnectNow();

  constructor(private readonly opts: StreamOptions) {
    this.lastSeq = opts.since;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  get seq() {
    return this.lastSeq;
  }

  /** Closes the socket as a network failure would (the stream reconnects by itself). */
  drop() {
    this.ws?.close(4000, 'dropped');
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    this.ws?.close(1000, 'done');
    this.opts.onStatus?.('closed');
  }

  private connect() {
    if (this.stopped) return;
    this.opts.onStatus?.(this.attempt ? 'reconnecting' : 'connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws?token=${encodeURIComponent(this.opts.token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.opened++;
      ws.send(JSON.stringify({ type: 'subscribe', projectId: this.opts.projectId, since: this.lastSeq }));
      this.opts.onStatus?.('live');
    };
    ws.onmessage = (m) => {
      let e: StreamEvent;
      try {
        e = JSON.parse(String(m.data)) as StreamEvent;
      } catch {
        return;
      }
      if (!e || typeof e.type !== 'string') return;
      if (e.projectId && e.projectId !== this.opts.projectId) return;
      if (typeof e.seq === 'number') {
        if (e.seq <= this.lastSeq) return; // already delivered (replayed after a reconnect)
        this.lastSeq = e.seq;
      }
      e.data = (e.data ?? {}) as Record<string, unknown>;
      this.opts.onEvent(e);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = undefined;
      // 4001: the token was revoked or expired; reconnecting with it would only be refused.
      if (ev.code === SIGNED_OUT) {
        this.close();
        this.opts.onStatus?.('closed', 'signed out: log in again');
        return;
      }
      this.scheduleReconnect(ev.reason || `code ${ev.code}`);
    };
  }

  private scheduleReconnect(detail: string) {
    this.attempt++;
    const delay = Math.min(MAX_DELAY_MS, 250 * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() / 2);
    this.opts.onStatus?.('reconnecting', detail);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  }
}
