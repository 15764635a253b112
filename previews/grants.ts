import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { MasterKey } from '../core/master-key.js';

/**
 * The preview origin's credentials, signed with a key derived from the master key (every node
 * derives the same one, so any node can check what another issued; nothing else is signed with it).
 *
 * - A grant: in the URL POST …/preview answers, for one user and one project, valid for seconds.
 *   The preview server exchanges it for a session cookie and redirects to the URL without it.
 * - A session: the HttpOnly cookie's value on the preview origin: the owner's (user + project) or
 *   a share link's (share id + project), each with its own expiry.
 * Each kind has its own audience, so one cannot be presented as the other.
 */

export const ISSUER = 'samokoder';
const GRANT_AUDIENCE = 'samokoder-preview-grant';
export const SESSION_AUDIENCE = 'samokoder-preview-session';

export type PreviewSession = { kind: 'owner'; projectId: string; userId: string } | { kind: 'share'; projectId: string; shareId: string };

export class PreviewGrants {
  private readonly key: Uint8Array;
  /**
   * The session cookie's HS256 key, as text: HAProxy checks the cookie too (previews/haproxy), and
   * its config takes the key as a string. 64 hex characters, 256 bits of the master key's HKDF.
   */
  readonly sessionSecret: string;
  private readonly sessionKey: Uint8Array;

  constructor(masterKey: MasterKey) {
    this.key = new Uint8Array(hkdfSync('sha256', masterKey.key, Buffer.alloc(0), 'samokoder preview grants v1', 32));
    this.sessionSecret = Buffer.from(hkdfSync('sha256', masterKey.key, Buffer.alloc(0), 'samokoder preview sessions v2', 32)).toString('hex');
    this.sessionKey = new TextEncoder().encode(this.sessionSecret);
  }

  grant(userId: string, projectId: string, ttlSeconds: number): Promise<string> {
    return new SignJWT({ pid: projectId }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(GRANT_AUDIENCE)
      .setSubject(userId).setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds).sign(this.key);
  }

  /** The grant's user and project, or undefined (bad signature, expired, wrong kind). */
  async verifyGrant(token: string): Promise<{ userId: string; projectId: string } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: GRANT_AUDIENCE, algorithms: ['HS256'] });
      return typeof payload.sub === 'string' && typeof payload.pid === 'string' ? { userId: payload.sub, projectId: payload.pid } : undefined;
    } catch {
      return undefined;
    }
  }

  session(session: PreviewSession, expiresAt: Date): Promise<string> {
    const claims = session.kind === 'owner' ? { pid: session.projectId, k: 'owner' } : { pid: session.projectId, k: 'share', sid: session.shareId };
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(SESSION_AUDIENCE)
      .setSubject(session.kind === 'owner' ? session.userId : session.shareId).setExpirationTime(Math.floor(expiresAt.getTime() / 1000)).sign(this.sessionKey);
  }

  async verifySession(token: string): Promise<PreviewSession | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.sessionKey, { issuer: ISSUER, audience: SESSION_AUDIENCE, algorithms: ['HS256'] });
      if (typeof payload.pid !== 'string' || typeof payload.sub !== 'string') return undefined;
      if (payload.k === 'owner') return { kind: 'owner', projectId: payload.pid, userId: payload.sub };
      if (payload.k === 'share' && typeof payload.sid === 'string') return { kind: 'share', projectId: payload.pid, shareId: payload.sid };
      return undefined;
    } catch {
      return undefined;
    }
  }
}

/** A share link's secret (shown once) and the hash that is stored. */
export function newShareToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashShareToken(token) };
}

export const hashShareToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
