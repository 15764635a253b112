import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: never passed on.
 * `expect` too: our server answers `100 Continue` itself before the body is read and streamed on.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

/** Where a request goes: `host:port` of the app's container. */
export type Upstream = string;

export interface Forwarder {
  /** Streams the request to the upstream and its answer back; `onError` when the upstream fails (no answer, reset). */
  web(req: IncomingMessage, res: ServerResponse, upstream: Upstream, onError: (err: Error) => void): void;
  /** A WebSocket (or other) upgrade: the upstream's 101 is relayed and the two sockets joined; anything else fails. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, upstream: Upstream, onError: (err: Error) => void): void;
  close(): Promise<void>;
}

/**
 * Forwards preview requests to app containers over undici's keep-alive pools (one per container
 * address). It replaces a general proxy library because the preview path needs little of one and
 * its cost per request decides the preview's throughput (docs/performance.md). An app's
 * informational answers (103 Early Hints) are not passed on, only its final answer; `100 Continue`
 * is our server's own, 101 is the upgrade path.
 */
export function createForwarder(settings: { behindProxy?: boolean } = {}): Forwarder {
  const headersOf = (req: IncomingMessage): Record<string, string | string[]> => (settings.behindProxy ? (endToEnd(req.headers) as Record<string, string | string[]>) : forwardedHeaders(req));
  // headersTimeout 0: a preview may hold a request open (long polling, server-sent events).
  const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0 });

  return {
    web(req, res, upstream, onError) {
      const abort = new AbortController();
      // The browser went away before the answer ended: the app's request is aborted too.
      res.once('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
      // Any method Node parsed is passed on; undici's type lists only the common ones.
      const method = req.method as Dispatcher.HttpMethod;
      agent
        .stream(
          { origin: `http://${upstream}`, method, path: req.url ?? '/', headers: headersOf(req), body: hasBody ? req : null, signal: abort.signal },
          ({ statusCode, headers }) => {
            res.writeHead(statusCode, endToEnd(headers));
            return res;
          },
        )
        .catch((err: Error) => {
          if (!abort.signal.aborted) onError(err);
        });
    },

    upgrade(req, socket, head, upstream, onError) {
      // An Agent routes by `origin` (as for stream); undici's UpgradeOptions type leaves it out.
      const options: Dispatcher.UpgradeOptions & { origin: string } = { origin: `http://${upstream}`, method: 'GET', path: req.url ?? '/', headers: headersOf(req), protocol: req.headers.upgrade ?? 'websocket' };
      agent
        .upgrade(options)
        .then(({ headers, socket: appSocket }) => {
          if (socket.destroyed) return appSocket.destroy();
          const lines = Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`));
          socket.write(`HTTP/1.1 101 Switching Protocols\r\n${lines.join('\r\n')}\r\n\r\n`);
          if (head.length) appSocket.write(head);
          appSocket.on('error', () => socket.destroy());
          socket.on('close', () => appSocket.destroy());
          appSocket.on('close', () => socket.destroy());
          appSocket.pipe(socket).pipe(appSocket);
        })
        .catch((err: Error) => onError(err));
    },

    close: () => agent.close(),
  };
}

/**
 * The request's end-to-end headers, with the X-Forwarded-* the app may want (the Host stays the
 * browser's). Behind the HAProxy data plane, HAProxy has set them already (behindProxy).
 */
function forwardedHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out = endToEnd(req.headers) as Record<string, string | string[]>;
  const append = (name: string, value: string): void => {
    const prior = req.headers[name];
    out[name] = prior ? `${String(prior)},${value}` : value;
  };
  append('x-forwarded-for', req.socket.remoteAddress ?? '');
  append('x-forwarded-port', String(req.socket.localPort ?? ''));
  append('x-forwarded-proto', 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http');
  out['x-forwarded-host'] = req.headers['x-forwarded-host'] ?? req.headers.host ?? '';
  return out;
}

/** Drops hop-by-hop headers, and those the Connection header names as such. */
function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = headers.connection;
  const alsoHop = named ? String(named).toLowerCase().split(',').map((s) => s.trim()) : [];
  const out: OutgoingHttpHeaders = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || HOP_BY_HOP.has(key) || alsoHop.includes(key)) continue;
    out[key] = value;
  }
  return out;
}
