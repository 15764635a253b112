import WebSocket from 'ws';

export interface DurableEvent {
  seq: number;
  runId: string | null;
  type: string;
  data: unknown;
}

/**
 * A WebSocket client following one project the way a browser tab does: subscribe with the last seq
 * it has, and when its node goes away reconnect (to whichever node `pickUrl` names now, as a load
 * balancer would) and subscribe again with that seq. It keeps every durable frame it was sent,
 * duplicates and gaps included, so the test can check "exactly once, in order" against the DB.
 */
export class ReconnectingSubscriber {
  /** Every durable frame received, in arrival order (a correct server makes this 1, 2, 3, …). */
  readonly received: DurableEvent[] = [];
  connections = 0;
  private ws: WebSocket | undefined;
  private stopped = false;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];

  constructor(
    private readonly projectId: string,
    private readonly token: string,
    private readonly pickUrl: () => string,
  ) {}

  get lastSeq(): number {
    return this.received.reduce((max, e) => Math.max(max, e.seq), 0);
  }

  start(): Promise<void> {
    return this.connect();
  }

  /** Resolves once a frame with seq ≥ `seq` arrived. */
  waitForSeq(seq: number, timeoutMs: number): Promise<void> {
    if (this.lastSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber of ${this.projectId} reached seq ${this.lastSeq}, not ${seq}, in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ seq, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  close(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  private connect(): Promise<void> {
    let base: string;
    try {
      base = this.pickUrl();
    } catch {
      // No node is up at this instant (both restarting): try again shortly.
      if (!this.stopped) setTimeout(() => void this.connect(), 150);
      return Promise.resolve();
    }
    const url = `${base.replace(/^http/, 'ws')}/ws`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    this.connections++;
    return new Promise((resolve) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        resolve();
      };
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'subscribe', projectId: this.projectId, since: this.lastSeq }));
      });
      ws.on('message', (raw) => {
        const frame = JSON.parse(raw.toString()) as Partial<DurableEvent> & { type: string; projectId?: string };
        if (frame.type === 'subscribed') done();
        if (typeof frame.seq !== 'number' || frame.projectId !== this.projectId) return;
        this.received.push({ seq: frame.seq, runId: frame.runId ?? null, type: frame.type, data: frame.data });
        this.waiters = this.waiters.filter((w) => (w.seq <= this.lastSeq ? (w.resolve(), false) : true));
      });
      // A refused or dropped connection (its node was killed) is retried after a short pause.
      ws.on('error', () => undefined);
      ws.on('close', () => {
        done();
        if (this.stopped || this.ws !== ws) return;
        setTimeout(() => void this.connect(), 150);
      });
    });
  }
}
