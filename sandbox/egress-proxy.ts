import http from 'node:http';
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';

/**
 * The only way out for 'registry' commands: an HTTP proxy on the internal network's gateway
 * that allows CONNECT to port 443 of the allow-listed registry hosts and plain HTTP GETs to them,
 * and answers 403 to everything else (other hosts, IP literals, other ports, the metadata address).
 */
export interface EgressProxy {
  /** http://<gateway>:<port>, for HTTPS_PROXY / npm_config_https_proxy. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface EgressProxyOptions {
  host: string;
  /** Lower-case host names; no IP literals. */
  allowedHosts: readonly string[];
  logger: Logger;
  /** Connect to this instead of the real host (tests only); the allow-list still applies. */
  port?: number;
}

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const allowed = new Set(options.allowedHosts.map(normaliseHost));
  const isAllowed = (host: string): boolean => net.isIP(host) === 0 && allowed.has(normaliseHost(host));
  const sockets = new Set<Duplex>();

  const server = http.createServer((req, res) => {
    // A proxy request carries an absolute URL; anything else (a direct request to the proxy) is refused.
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return refuse(res, 'not a proxy request');
    }
    const port = Number(target.port || 80);
    if (target.protocol !== 'http:' || port !== 80 || !isAllowed(target.hostname) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return refuse(res, `${req.method} ${target.host} is not allowed`);
    }
    void safeAddress(target.hostname).then((address) => {
      if (!address) return refuse(res, `${target.hostname} resolves to a refused address`);
      const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
      delete headers['proxy-connection'];
      delete headers['proxy-authorization'];
      const upstream = http.request({ host: address, port, method: req.method, path: `${target.pathname}${target.search}`, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => refuse(res, 'upstream failed', 502));
      upstream.end();
    });
  });

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const [host = '', portText = ''] = splitHostPort(req.url ?? '');
    if (portText !== '443' || !isAllowed(host)) {
      options.logger.warn({ target: req.url }, 'sandbox egress refused');
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    void safeAddress(host).then((address) => {
      if (!address) {
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = net.connect(options.port ?? 443, address, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(upstream);
      upstream.once('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
      client.once('close', () => upstream.destroy());
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  function refuse(res: http.ServerResponse, why: string, status = 403): void {
    options.logger.warn({ why }, 'sandbox egress refused');
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${status === 403 ? 'Forbidden' : 'Bad gateway'} by the Samokoder sandbox egress proxy: ${why}\n`);
  }
}

function normaliseHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

function splitHostPort(authority: string): [string, string] {
  const i = authority.lastIndexOf(':');
  return i < 0 ? [authority, ''] : [authority.slice(0, i), authority.slice(i + 1)];
}

/**
 * Resolves an allow-listed name, refusing loopback, link-local (the 169.254.169.254 metadata
 * service) and unspecified addresses, so a DNS answer cannot turn the proxy towards the host or the cloud metadata.
 */
async function safeAddress(host: string): Promise<string | undefined> {
  try {
    const { address } = await lookup(host);
    const refused = /^(127\.|169\.254\.|0\.)/.test(address) || address === '::1' || address.toLowerCase().startsWith('fe80:') || address === '::';
    return refused ? undefined : address;
  } catch {
    return undefined;
  }
}
