import WebSocket from 'ws';
import { parseServerFrame } from '../../protocol/ws-frame-schemas.js';

export interface Frame {
  type: string;
  seq?: number;
  projectId?: string;
  runId?: string | null;
  code?: string;
  message?: string;
  data?: unknown;
  [k: string]: unknown;
}

/** Frames received that protocol/ws-frames does not describe, since the last takeProtocolErrors(). */
let protocolErrors: string[] = [];

/**
 * A real `ws` client that records every frame and can wait for one matching a predicate. Every
 * frame is also checked against the protocol (parseServerFrame): a test's afterEach asserts
 * `TestSocket.takeProtocolErrors()` is empty.
 */
export class TestSocket {
  static takeProtocolErrors(): string[] {
    const errors = protocolErrors;
    protocolErrors = [];
    return errors;
  }

  readonly frames: Frame[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      const checked = parseServerFrame(frame);
      if (!checked.ok) protocolErrors.push(`${checked.error} in ${JSON.stringify(frame).slice(0, 300)}`);
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => {
      this.closeCode = code;
      resolve(code);
    }));
  }

  static open(baseUrl: string, options: { token?: string; queryToken?: string; path?: string; autoPong?: boolean } = {}): Promise<TestSocket> {
    const url = `${baseUrl.replace(/^http/, 'ws')}${options.path ?? '/ws'}${options.queryToken ? `?token=${encodeURIComponent(options.queryToken)}` : ''}`;
    const ws = new WebSocket(url, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, autoPong: options.autoPong ?? true });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or future) matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs = 10_000, from = 0): Promise<Frame> {
    const seen = this.frames.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  /** Durable events of a project received so far, by seq. */
  seqs(projectId: string): number[] {
    return this.frames.filter((f) => f.projectId === projectId && typeof f.seq === 'number').map((f) => f.seq!);
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}
