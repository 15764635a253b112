import { WebSocket, type RawData } from 'ws';
import { isAppError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { followProjectEvents, type EventFeed, type Following } from '../../events/event-feed.js';
import type { EventReader } from '../../events/coalescing-events.js';
import { describeIssues } from '../http/validation.js';
import { clientFrameSchema } from '../../protocol/ws-frame-schemas.js';
import { CLOSE_CODES, MAX_SUBSCRIPTIONS, type ServerFrame } from '../../protocol/ws-frames.js';
import { durableFrame, ephemeralFrameText } from './event-frames.js';

export interface ConnectionDeps {
  feed: EventFeed;
  events: EventReader;
  userId: string;
  maxBufferedBytes: number;
  logger: Logger;
  /** Called when the connection is closed for reading too slowly (metrics). */
  onSlowConsumer?: () => void;
}

interface Subscription {
  following: Following | undefined;
  /** Set once the ownership check passed: ephemeral events flow only after it. */
  ready: boolean;
  stopped: boolean;
}

/**
 * One client's WebSocket: its subscriptions (one followProjectEvents each) and flow control.
 *
 * Durable events are pulled from the database, so they get backpressure: while the socket's
 * unsent bytes are over half the cap, the next read waits for the socket to drain. Ephemeral
 * events are pushed by the feed and cannot wait; when they (or a client that stopped reading)
 * take the unsent bytes over the cap, the connection is closed with 4008 rather than buffering
 * without bound. The client reconnects and resubscribes with its last seq, losing nothing durable.
 */
export class ClientConnection {
  private readonly subscriptions = new Map<string, Subscription>();
  private closed = false;
  /** Cleared at each heartbeat ping, set by the pong. */
  alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: ConnectionDeps,
  ) {
    socket.on('message', (data, isBinary) => void this.onMessage(data, isBinary));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.dispose());
    socket.on('error', (err) => deps.logger.debug({ err }, 'websocket error'));
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** Stops every subscription (the socket closed or the server is stopping). */
  dispose(): void {
    this.closed = true;
    for (const sub of this.subscriptions.values()) this.stop(sub);
    this.subscriptions.clear();
  }

  private async onMessage(data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) return this.error('E_VALIDATION', 'Send text frames holding JSON, e.g. {"type":"subscribe","projectId":"…","since":0}.');
    let value: unknown;
    try {
      value = JSON.parse(rawText(data));
    } catch {
      return this.error('E_BAD_JSON', 'The frame is not valid JSON. Send e.g. {"type":"subscribe","projectId":"…","since":0}.');
    }
    const parsed = clientFrameSchema.safeParse(value);
    if (!parsed.success) return this.error('E_VALIDATION', describeIssues('frame', parsed.error.issues));
    const frame = parsed.data;
    if (frame.type === 'ping') return this.send({ type: 'pong', ...(frame.id !== undefined ? { id: frame.id } : {}) });
    if (frame.type === 'unsubscribe') {
      const sub = this.subscriptions.get(frame.projectId);
      if (sub) this.stop(sub);
      this.subscriptions.delete(frame.projectId);
      return this.send({ type: 'unsubscribed', projectId: frame.projectId });
    }
    await this.subscribe(frame.projectId, frame.since);
  }

  private async subscribe(projectId: string, since: number): Promise<void> {
    const previous = this.subscriptions.get(projectId);
    if (previous) this.stop(previous); // a resubscribe restarts from the new `since`
    else if (this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      return this.error('E_CONFLICT', `At most ${MAX_SUBSCRIPTIONS} subscriptions per connection; unsubscribe from one first.`, projectId);
    }
    const sub: Subscription = { following: undefined, ready: false, stopped: false };
    this.subscriptions.set(projectId, sub);
    let acked = false;
    // The ack goes out before the first event, whichever comes first: the end of the ownership
    // check below or the first replayed row.
    const ack = () => {
      if (acked) return;
      acked = true;
      this.send({ type: 'subscribed', projectId, since });
    };
    try {
      const following = await followProjectEvents({
        feed: this.deps.feed,
        events: this.deps.events,
        projectId,
        userId: this.deps.userId,
        since,
        onEvent: async (e) => {
          if (sub.stopped) return;
          ack();
          await this.sendWithBackpressure(durableFrame(e));
        },
        // The feed fans out by project id to anyone listening; until followProjectEvents has
        // confirmed the project is this user's, another user's deltas must not leak through.
        onEphemeral: (e) => {
          if (sub.ready && !sub.stopped) this.sendText(ephemeralFrameText(e));
        },
        onError: (err) => this.deps.logger.warn({ err, projectId }, 'event replay failed; retrying at the next wake-up'),
      });
      sub.following = following;
      sub.ready = true;
      if (sub.stopped || this.closed) following.stop();
      else ack();
    } catch (err) {
      if (this.subscriptions.get(projectId) === sub) this.subscriptions.delete(projectId);
      if (isAppError(err) && err.status < 500) return this.error(err.code, err.message, projectId);
      this.deps.logger.error({ err, projectId }, 'subscribe failed');
      this.error('E_INTERNAL', 'Subscribing failed; try again.', projectId);
    }
  }

  private stop(sub: Subscription): void {
    sub.stopped = true;
    sub.following?.stop();
  }

  private error(code: string, message: string, projectId?: string): void {
    this.send({ type: 'error', code, message, ...(projectId ? { projectId } : {}) });
  }

  /** Sends now; closes the connection (4008) when its unsent bytes pass the cap. */
  private send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  private sendText(text: string): void {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(text);
    if (this.socket.bufferedAmount > this.deps.maxBufferedBytes) this.closeSlow();
  }

  /** Sends; past half the cap, waits until this frame has been handed to the kernel. */
  private async sendWithBackpressure(frame: ServerFrame): Promise<void> {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    if (this.socket.bufferedAmount <= this.deps.maxBufferedBytes / 2) return this.send(frame);
    // The callback also fires (with an error) when the socket closes, so this cannot hang.
    await new Promise<void>((resolve) => this.socket.send(JSON.stringify(frame), () => resolve()));
  }

  private closeSlow(): void {
    if (this.closed) return;
    this.deps.logger.warn({ userId: this.deps.userId, buffered: this.socket.bufferedAmount }, 'websocket client too slow: closing');
    this.deps.onSlowConsumer?.();
    this.dispose();
    this.socket.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer: send buffer over the cap');
    // The close frame waits behind the unsent data; a client that never reads must not keep it.
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
