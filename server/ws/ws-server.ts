import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError, isAppError } from '../../core/errors.js';
import type { EventFeed } from '../../events/event-feed.js';
import type { AppContext } from '../context.js';
import { authenticateToken, bearerToken } from '../http/authenticate.js';
import { isAllowedSocketOrigin } from '../http/cors.js';
import type { AuthContext } from '../http/route.js';
import { CoalescingEventReader } from '../../events/coalescing-events.js';
import { EventsRepo } from '../../events/event-log.js';
import { ClientConnection } from './connection.js';
import { CLOSE_CODES, MAX_CLIENT_FRAME_BYTES } from '../../protocol/ws-frames.js';

export const WS_PATH = '/ws';

export interface ProjectStreamServer {
  /** Open connections on this node. */
  readonly connections: number;
  /** Closes every connection with 1001 (going away) and stops the heartbeat. */
  close(): Promise<void>;
}

/** Answers an upgrade we refuse with a plain HTTP response in the API's error envelope. */
function refuse(socket: Duplex, error: AppError): void {
  const body = JSON.stringify(error.toJSON());
  const reason = error.status === 401 ? 'Unauthorized' : error.status === 403 ? 'Forbidden' : error.status === 404 ? 'Not Found' : 'Error';
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.destroy();
}

/**
 * The live-progress WebSocket on `/ws`, on the HTTP server's port. The client is authenticated
 * on the upgrade request (Authorization: Bearer, or `?token=` for browsers, which cannot set
 * headers on a WebSocket) before the connection is accepted: a bad token is a 401 response,
 * never an open socket. Events come from the node's EventFeed (LISTEN/NOTIFY), so a socket on
 * this node sees runs executing on any node.
 */
/** A socket, its protocol state, and the credential it opened with (kept in memory only, to re-check it). */
interface OpenSocket {
  connection: ClientConnection;
  userId: string;
  token: string;
  expiresAt: Date | undefined;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value?.split(',')[0];
  return first?.trim() || undefined;
}

export function attachProjectStreams(server: Server, ctx: AppContext, feed: EventFeed): ProjectStreamServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES, perMessageDeflate: false });
  const connections = new Map<WebSocket, OpenSocket>();
  const events = new CoalescingEventReader(new EventsRepo(ctx.db));
  const log = ctx.logger.child({ component: 'ws' });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (err) => log.debug({ err }, 'upgrade socket error'));
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WS_PATH) return refuse(socket, new AppError('E_NOT_FOUND', `No WebSocket at ${url.pathname}; connect to ${WS_PATH}.`));
      // The same-origin policy does not cover WebSockets: any page can open one, and the token can
      // ride in the query string. Only the service's own pages and the CORS-listed front ends
      // get a socket (cross-site WebSocket hijacking); clients without an Origin (the CLI,
      // servers) are not browsers and pass.
      const host = ctx.config.trustProxy ? (firstHeader(req.headers['x-forwarded-host']) ?? req.headers.host) : req.headers.host;
      if (!isAllowedSocketOrigin(req.headers.origin, host, ctx.config.cors.origins)) {
        return refuse(socket, new AppError('E_FORBIDDEN', 'This Origin may not open the WebSocket; the operator lists allowed front ends in SAMOKODER_CORS_ORIGINS.'));
      }
      let auth: AuthContext;
      let token: string | undefined;
      try {
        token = bearerToken(req, url.searchParams.get('token') ?? undefined);
        if (!token) throw new AppError('E_AUTH', 'Send Authorization: Bearer <token> or ?token=<token> with the upgrade request.');
        auth = await authenticateToken(ctx, token);
      } catch (err) {
        if (!isAppError(err)) log.error({ err }, 'websocket authentication failed');
        return refuse(socket, isAppError(err) ? err : new AppError('E_INTERNAL', 'Authentication failed; try again.'));
      }
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const connection = new ClientConnection(ws, {
          feed,
          events,
          userId: auth.user.id,
          maxBufferedBytes: ctx.config.ws.maxBufferedBytes,
          logger: log,
          onSlowConsumer: () => ctx.metrics.wsDropped.inc({ reason: 'slow_consumer' }),
        });
        connections.set(ws, { connection, userId: auth.user.id, token: token!, expiresAt: auth.expiresAt });
        ctx.metrics.wsConnections.inc();
        ws.once('close', () => {
          connections.delete(ws);
          ctx.metrics.wsConnections.dec();
        });
      });
    })();
  };
  server.on('upgrade', onUpgrade);

  const closeUnauthorized = (ws: WebSocket, why: string): void => {
    log.info({ why }, 'closing a websocket whose credential is no longer valid');
    ws.close(CLOSE_CODES.UNAUTHORIZED, `${why}; log in again, then reconnect`);
  };
  // The token is checked at the upgrade, and again whenever its user's tokens or account change
  // (logout, revocation, deletion; the notice reaches every node), so a revoked token does not
  // keep streaming on a socket it opened earlier.
  const stopRecheck = ctx.sessions.onUserChanged((userId) => {
    // One check per distinct token: a user's sockets often share one.
    const byToken = new Map<string, WebSocket[]>();
    for (const [ws, open] of connections) if (open.userId === userId) byToken.set(open.token, [...(byToken.get(open.token) ?? []), ws]);
    for (const [token, sockets] of byToken) {
      authenticateToken(ctx, token).catch((err: unknown) => {
        if (isAppError(err) && err.code === 'E_AUTH') for (const ws of sockets) closeUnauthorized(ws, 'the token was revoked or expired');
        // Anything else (the database briefly unreachable) is not a verdict on the token: the
        // sockets stay, and the next change notice or the expiry check decides.
        else log.warn({ err }, 'could not re-check a websocket token; keeping its sockets');
      });
    }
  });

  // A client that misses a pong for a whole period is gone (a dead peer, a NAT that dropped the
  // flow): terminate it so its subscriptions stop. Pings also keep idle proxies from cutting us.
  const heartbeat = setInterval(() => {
    const now = ctx.clock.now();
    for (const [ws, { connection, expiresAt }] of connections) {
      if (expiresAt && expiresAt <= now) {
        closeUnauthorized(ws, 'the token expired');
        continue;
      }
      if (!connection.alive) {
        log.info('websocket client missed a heartbeat: terminating');
        ctx.metrics.wsDropped.inc({ reason: 'dead' });
        ws.terminate();
        continue;
      }
      connection.alive = false;
      ws.ping();
    }
  }, ctx.config.ws.heartbeatMs);
  heartbeat.unref();

  return {
    get connections() {
      return connections.size;
    },
    async close() {
      clearInterval(heartbeat);
      stopRecheck();
      server.off('upgrade', onUpgrade);
      const closed = [...connections.keys()].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.close(CLOSE_CODES.GOING_AWAY, 'server shutting down');
            // A client that does not answer the close handshake must not hold the shutdown.
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 1000).unref();
          }),
      );
      for (const { connection } of connections.values()) connection.dispose();
      await Promise.all(closed);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
