import WebSocket from 'ws';

export interface RunEvent {
  seq?: number;
  projectId: string;
  runId: string | null;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/**
 * Follows a project's events over the WebSocket: subscribes from the last seq seen and, after a
 * dropped connection, reconnects and resubscribes from it; durable events at or below it are
 * dropped, so each is delivered once.
 */
export class EventFollower {
  private ws: WebSocket | undefined;
  private lastSeq = 0;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly wsUrl: string,
    private readonly token: string,
    private readonly projectId: string,
    private readonly onEvent: (e: RunEvent) => void,
  ) {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.wsUrl, { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'subscribe', projectId: this.projectId, since: this.lastSeq }));
    });
    ws.on('message', (raw) => {
      let e: RunEvent;
      try {
        e = JSON.parse(String(raw)) as RunEvent;
      } catch {
        return;
      }
      if (typeof e?.type !== 'string' || !e.type.includes('.')) return; // control frames
      if (typeof e.seq === 'number') {
        if (e.seq <= this.lastSeq) return;
        this.lastSeq = e.seq;
      }
      e.data = (e.data ?? {}) as Record<string, unknown>;
      this.onEvent(e);
    });
    ws.on('error', () => undefined); // 'close' follows
    ws.on('close', (code) => {
      if (this.stopped || this.ws !== ws) return;
      // 4001: the token was revoked or expired; reconnecting with it would only be refused (the
      // command's polling of the run gets the 401 and reports it).
      if (code === 4001) {
        this.stopped = true;
        return;
      }
      this.attempt++;
      this.timer = setTimeout(() => this.connect(), Math.min(5000, 200 * 2 ** this.attempt));
    });
  }
}
