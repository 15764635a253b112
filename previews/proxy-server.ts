import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { createForwarder } from './forward.js';
import { hashShareToken, type PreviewGrants, type PreviewSession } from './grants.js';
import type { PreviewManager } from './manager.js';
import type { PreviewOrigin } from './origin.js';
import { PreviewsRepo, SharesRepo } from './repo.js';

export const GRANT_PARAM = 'samokoder_grant';
export const SHARE_PARAM = 'samokoder_share';
export const SESSION_COOKIE = 'samokoder_preview';
/** How long a preview's address is reused before the row is read again (a restart moves it). */
const UPSTREAM_CACHE_MS = 1000;
/** How long a verified cookie is taken as valid without checking its signature again (well below its own expiry's resolution). */
const SESSION_CACHE_MS = 1000;

export interface PreviewServerDeps {
  db: Database;
  logger: Logger;
  grants: PreviewGrants;
  manager: PreviewManager;
  origin: () => PreviewOrigin;
  sessionSeconds: number;
  /** Behind the HAProxy data plane (previews/haproxy): the X-Forwarded-* headers are HAProxy's, passed on as they are. */
  behindProxy?: boolean;
}

/**
 * The preview origin's HTTP server: a listener of its own, never the API's, so a generated app's
 * pages cannot read the UI's storage or call the API with its session. Every request needs the
 * session cookie (got by exchanging a grant or a share token in the URL); without one, or for a
 * project the session is not for: 404, the same answer as for a project that does not exist.
 * HTTP and WebSocket requests are then forwarded to the app's container (forward.ts), with our
 * cookie removed so the app never sees it.
 */
export function createPreviewServer(deps: PreviewServerDeps): http.Server {
  const { db, logger, grants, manager } = deps;
  const forwarder = createForwarder({ behindProxy: deps.behindProxy ?? false });
  const shares = new SharesRepo(db);
  const previews = new PreviewsRepo(db);
  const upstreams = new Map<string, { upstream: string | undefined; at: number }>();
  // This node's restarts and stops are known at once; another node's after UPSTREAM_CACHE_MS.
  const unsubscribe = manager.onChange((projectId) => void upstreams.delete(projectId));

  /** The upstream failed: the container may have moved (restarted on another node), so its row is read again next time. */
  const upstreamFailed = (projectId: string, err: Error): void => {
    logger.debug({ err: String(err) }, 'preview proxy: upstream error');
    upstreams.delete(projectId);
  };

  async function upstreamOf(projectId: string): Promise<string | undefined> {
    const cached = upstreams.get(projectId);
    if (cached && Date.now() - cached.at < UPSTREAM_CACHE_MS) return cached.upstream;
    const row = await previews.get(projectId);
    const upstream = row?.status === 'running' && row.upstream ? row.upstream : undefined;
    upstreams.set(projectId, { upstream, at: Date.now() });
    return upstream;
  }

  /** Cookies whose signature was checked (a browser sends the same one with every request), until they expire. */
  const verified = new Map<string, { session: PreviewSession; until: number }>();
  async function verifyCached(token: string): Promise<PreviewSession | undefined> {
    const hit = verified.get(token);
    if (hit && hit.until > Date.now()) return hit.session;
    const session = await grants.verifySession(token);
    if (session) {
      if (verified.size > 10_000) verified.clear();
      verified.set(token, { session, until: Date.now() + SESSION_CACHE_MS });
    }
    return session;
  }

  /** The session the request's cookie carries, when it is valid for the project the host names. */
  async function sessionOf(req: IncomingMessage): Promise<PreviewSession | undefined> {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!token) return undefined;
    const session = await verifyCached(token);
    if (!session) return undefined;
    const hostProject = deps.origin().projectFromHost(req.headers.host);
    if (deps.origin().wildcard && hostProject !== session.projectId) return undefined;
    if (session.kind === 'share' && !(await shares.isActive(session.shareId, session.projectId))) return undefined;
    return session;
  }

  /** `?samokoder_grant=` or `?samokoder_share=`: the cookie is set and the browser sent on to the URL without it. */
  async function exchange(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const grant = url.searchParams.get(GRANT_PARAM);
    const share = url.searchParams.get(SHARE_PARAM);
    if (grant === null && share === null) return false;
    const hostProject = deps.origin().projectFromHost(req.headers.host);
    let session: PreviewSession | undefined;
    let expiresAt = new Date(Date.now() + deps.sessionSeconds * 1000);
    if (grant !== null) {
      const g = await grants.verifyGrant(grant);
      if (g) session = { kind: 'owner', projectId: g.projectId, userId: g.userId };
    } else if (share) {
      const s = await shares.findActiveByHash(hashShareToken(share));
      if (s) {
        session = { kind: 'share', projectId: s.projectId, shareId: s.id };
        if (s.expiresAt < expiresAt) expiresAt = s.expiresAt;
      }
    }
    if (!session || (deps.origin().wildcard && hostProject !== session.projectId)) {
      notFound(res);
      return true;
    }
    url.searchParams.delete(GRANT_PARAM);
    url.searchParams.delete(SHARE_PARAM);
    const value = await grants.session(session, expiresAt);
    const secure = deps.origin().secure;
    // HttpOnly: the app's scripts never read it. SameSite=None lets the UI frame the preview from
    // another site, and Partitioned (CHIPS) keeps it a cookie of that frame under the UI's site, which
    // browsers that block third-party cookies still set; on a plain-http host that is not
    // `localhost` (a LAN address) the UI and the preview share the host, so the same site: Lax.
    const attrs = ['Path=/', 'HttpOnly', `Max-Age=${Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000))}`, secure ? 'Secure; SameSite=None; Partitioned' : 'SameSite=Lax'];
    res.writeHead(302, { 'Set-Cookie': `${SESSION_COOKIE}=${value}; ${attrs.join('; ')}`, Location: `${url.pathname}${url.search}`, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end();
    return true;
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      // Only a URL with a query may carry a grant or a share token: the others are not parsed.
      if (req.url?.includes('?') && (await exchange(req, res, new URL(req.url, 'http://preview')))) return;
      const session = await sessionOf(req);
      if (!session) return notFound(res);
      const upstream = await upstreamOf(session.projectId);
      if (!upstream) return page(res, 503, 'This preview is not running. Start it again from Samokoder.');
      manager.touch(session.projectId);
      stripSessionCookie(req);
      forwarder.web(req, res, upstream, (err) => {
        upstreamFailed(session.projectId, err);
        if (!res.headersSent) page(res, 503, 'The preview did not answer. It may have stopped: start it again from Samokoder.');
        else res.destroy();
      });
    })().catch((err: unknown) => {
      logger.warn({ err }, 'preview proxy: request failed');
      if (!res.headersSent) page(res, 500, 'The preview server failed; try again.');
      else res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void (async () => {
      const session = await sessionOf(req);
      const upstream = session && (await upstreamOf(session.projectId));
      if (!session || !upstream) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      manager.touch(session.projectId);
      stripSessionCookie(req);
      forwarder.upgrade(req, socket, head, upstream, (err) => {
        upstreamFailed(session.projectId, err);
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
    })().catch(() => socket.destroy());
  });

  server.on('close', () => {
    unsubscribe();
    void forwarder.close();
  });
  return server;
}

function notFound(res: ServerResponse): void {
  page(res, 404, 'Not found.');
}

function page(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** The app is untrusted: it must never receive the preview session. */
function stripSessionCookie(req: IncomingMessage): void {
  const cookie = req.headers.cookie;
  if (!cookie) return;
  const kept = cookie.split(';').map((p) => p.trim()).filter((p) => p && !p.startsWith(`${SESSION_COOKIE}=`));
  if (kept.length) req.headers.cookie = kept.join('; ');
  else delete req.headers.cookie;
}
