import type { Request } from 'express';
import { AppError } from '../../core/errors.js';
import { AuthTokensRepo } from '../../db/repos/auth-tokens.js';
import { UsersRepo } from '../../db/repos/users.js';
import { isAdmin } from '../auth/admin.js';
import { hashSessionToken, looksLikeSessionToken } from '../auth/tokens.js';
import type { AppContext } from '../context.js';
import type { AuthContext } from './route.js';

const BAD_TOKEN = 'The bearer token is invalid, expired or revoked. Log in again (POST /api/auth/login) and send Authorization: Bearer <token>.';

/** Reads `Authorization: Bearer …` (or, for WebSocket upgrades, `?token=`). */
export function bearerToken(req: Pick<Request, 'headers'>, queryToken?: string): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError('E_AUTH', 'The Authorization header must be "Bearer <token>".');
    return match[1];
  }
  return queryToken || undefined;
}

/**
 * Resolves a token to a user: a local session token (looked up by hash, through the node's
 * session cache), or a Supabase access
 * token (verified, then mapped to a local user by `sub`, created on first sight).
 */
export async function authenticateToken(ctx: AppContext, token: string): Promise<AuthContext> {
  if (looksLikeSessionToken(token)) {
    const now = ctx.clock.now();
    const tokenHash = hashSessionToken(token);
    let session = ctx.sessions.get(tokenHash, now);
    if (!session) {
      const generation = ctx.sessions.currentGeneration;
      session = await new UsersRepo(ctx.db).findBySessionToken(tokenHash, now);
      if (!session) throw new AppError('E_AUTH', BAD_TOKEN);
      ctx.sessions.remember(tokenHash, session, generation, now);
    }
    if (await new AuthTokensRepo(ctx.db).touch(session.tokenId, session.lastUsedAt, now)) session.lastUsedAt = now;
    const role = isAdmin(ctx.config, session.user.id) ? 'admin' : 'user';
    return { user: { ...session.user, role }, tokenId: session.tokenId, expiresAt: session.expiresAt };
  }
  if (ctx.supabase && token.split('.').length === 3) {
    const identity = await ctx.supabase(token);
    if (identity) {
      const user = await new UsersRepo(ctx.db).upsertBySupabaseSub({
        sub: identity.sub,
        email: identity.email,
        planId: ctx.config.defaultPlan,
      });
      const role = isAdmin(ctx.config, user.id, identity.emailVerified ? identity.email : undefined) ? 'admin' : 'user';
      return { user: { ...user, role }, expiresAt: identity.expiresAt };
    }
  }
  throw new AppError('E_AUTH', BAD_TOKEN);
}
