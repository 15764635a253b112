import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { AuthTokensRepo } from '../../db/repos/auth-tokens.js';
import { isUniqueViolation, UsersRepo } from '../../db/repos/users.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { hashSessionToken, newSessionToken } from '../auth/tokens.js';
import type { Queryable } from '../../db/port.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { sessionSchema } from '../../protocol/api-types.js';
import { toUserJson } from './schemas.js';

const credentials = z.object({
  email: z
    .string()
    .trim()
    .max(254)
    .pipe(z.email({ message: 'must be an email address like you@example.com' }))
    .transform((e) => e.toLowerCase()),
  password: z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters'),
});


async function issueToken(ctx: AppContext, db: Queryable, userId: string) {
  const token = newSessionToken();
  const expiresAt = new Date(ctx.clock.now().getTime() + ctx.config.tokenTtlHours * 3600_000);
  await new AuthTokensRepo(db).create({ userId, tokenHash: hashSessionToken(token), expiresAt });
  return { token, expiresAt: expiresAt.toISOString() };
}

export function authRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/auth/register',
      summary: 'Create a local account and get a bearer token',
      tag: 'auth',
      auth: 'none',
      body: credentials,
      responses: { 201: { description: 'Registered', schema: sessionSchema }, 409: { description: 'Email already registered' } },
      handler: async ({ body }) => {
        const passwordHash = await hashPassword(body.password);
        const role = ctx.config.adminEmails.includes(body.email) ? 'admin' : 'user';
        // The user and its first token are written together, so a failure leaves no half account.
        const session = await ctx.db
          .transaction(async (tx) => {
            const user = await new UsersRepo(tx).create({ email: body.email, passwordHash, planId: ctx.config.defaultPlan, role });
            return { ...(await issueToken(ctx, tx, user.id)), user: toUserJson(user) };
          })
          .catch((err: unknown) => {
            if (isUniqueViolation(err)) throw new AppError('E_CONFLICT', 'An account with this email already exists. Log in instead.');
            throw err;
          });
        return { status: 201, body: session };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/login',
      summary: 'Exchange email and password for a bearer token',
      tag: 'auth',
      auth: 'none',
      body: credentials,
      responses: { 200: { description: 'Logged in', schema: sessionSchema }, 401: { description: 'Wrong email or password' } },
      handler: async ({ body }) => {
        const user = await new UsersRepo(ctx.db).findByEmailWithSecret(body.email);
        // verifyPassword runs the same scrypt work when the user is unknown (constant time).
        const okPassword = await verifyPassword(body.password, user?.passwordHash);
        if (!user || !okPassword) throw new AppError('E_AUTH', 'Wrong email or password.');
        const { passwordHash: _secret, ...publicUser } = user;
        return { body: { ...(await issueToken(ctx, ctx.db, user.id)), user: toUserJson(publicUser) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/logout',
      summary: 'Revoke the bearer token used for this request',
      tag: 'auth',
      auth: 'user',
      responses: { 204: { description: 'Token revoked' } },
      handler: async ({ auth }) => {
        const tokenId = auth?.tokenId;
        if (tokenId) await ctx.sessions.changing(auth.user.id, () => new AuthTokensRepo(ctx.db).revoke(tokenId, auth.user.id, ctx.clock.now()));
        return { status: 204 };
      },
    }),
  ];
}
