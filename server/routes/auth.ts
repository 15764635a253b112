import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { AuthTokensRepo } from '../../db/repos/auth-tokens.js';
import { isUniqueViolation, UsersRepo } from '../../db/repos/users.js';
import { passwordProblem } from '../auth/password-policy.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { hashSessionToken, newSessionToken } from '../auth/tokens.js';
import type { Queryable } from '../../db/port.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { logoutNotRevokedSchema, sessionSchema } from '../../protocol/api-types.js';
import { toUserJson } from './schemas.js';

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be an email address like you@example.com' }))
  .transform((e) => e.toLowerCase());

// Signing in takes any password an account may have (older accounts predate the policy); a new
// one must pass it.
const credentials = z.object({
  email,
  password: z.string().min(1, 'is required').max(256, 'must be at most 256 characters'),
});
const newAccount = z.object({
  email,
  password: z
    .string()
    .max(256, 'must be at most 256 characters')
    .superRefine((password, check) => {
      const problem = passwordProblem(password);
      if (problem) check.addIssue({ code: 'custom', message: problem });
    }),
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
      body: newAccount,
      responses: { 201: { description: 'Registered', schema: sessionSchema }, 409: { description: 'Email already registered' } },
      handler: async ({ body }) => {
        const passwordHash = await hashPassword(body.password);
        // The user and its first token are written together, so a failure leaves no half account.
        const session = await ctx.db
          .transaction(async (tx) => {
            const user = await new UsersRepo(tx).create({ email: body.email, passwordHash, planId: ctx.config.defaultPlan });
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
      summary: 'Revoke the bearer token used for this request (a local session token; Supabase tokens are ended at Supabase)',
      tag: 'auth',
      auth: 'user',
      responses: {
        204: { description: 'Token revoked' },
        200: { description: 'A Supabase token: not revoked here; it stays valid until its exp', schema: logoutNotRevokedSchema },
      },
      handler: async ({ auth }) => {
        const tokenId = auth?.tokenId;
        if (tokenId) {
          await ctx.sessions.changing(auth.user.id, () => new AuthTokensRepo(ctx.db).revoke(tokenId, auth.user.id, ctx.clock.now()));
          return { status: 204 };
        }
        // A Supabase token: Samokoder keeps no list of them, so saying "revoked" would be untrue.
        const until = auth?.expiresAt?.toISOString();
        return {
          status: 200,
          body: {
            revoked: false,
            expiresAt: until ?? null,
            message: `Supabase access tokens are not revoked by Samokoder: sign out with Supabase (supabase.auth.signOut()) and drop the token; it stays valid until it expires${until ? ` (${until})` : ''}.`,
          },
        };
      },
    }),
  ];
}
