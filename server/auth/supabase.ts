import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface SupabaseIdentity {
  sub: string;
  email: string;
  /** The token says Supabase verified the email (`email_verified: true`, a top-level claim). */
  emailVerified: boolean;
  /** The token's `exp`. */
  expiresAt: Date;
}

export interface SupabaseVerifierOptions {
  jwtSecret: string | undefined;
  jwksUrl: string | undefined;
  audience: string;
  issuer: string | undefined;
  /** The longest a token may be valid: from `iat` to `exp`, and from now to `exp`. */
  maxLifetimeSeconds: number;
  /** Seconds since the epoch; the clock the lifetime is measured on. */
  now: () => number;
}

export type SupabaseVerifier = (token: string) => Promise<SupabaseIdentity | undefined>;

/**
 * Verifies Supabase access tokens: HS256 with the project's JWT secret, or RS256/ES256 through the
 * project's JWKS (fetched and cached by jose). Returns undefined for any token that does not
 * verify; the caller answers E_AUTH without saying why, so nothing is learnt by probing.
 *
 * A token must carry `exp`, at most maxLifetimeSeconds away: Samokoder cannot revoke a Supabase
 * token (Supabase's sign-out ends the refresh token, not access tokens already issued), so the
 * token's own expiry is what bounds a leaked one. Supabase issues them for an hour by default.
 */
export function createSupabaseVerifier(options: SupabaseVerifierOptions): SupabaseVerifier | undefined {
  const { jwtSecret, jwksUrl } = options;
  if (!jwtSecret && !jwksUrl) return undefined;
  const secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : undefined;
  const jwks: JWTVerifyGetKey | undefined = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : undefined;
  const verifyOptions = {
    audience: options.audience,
    requiredClaims: ['exp', 'sub'],
    ...(options.issuer ? { issuer: options.issuer } : {}),
  };
  return async (token) => {
    let payload: JWTPayload | undefined;
    const currentDate = new Date(options.now() * 1000);
    if (secret) {
      payload = await jwtVerify(token, secret, { ...verifyOptions, currentDate, algorithms: ['HS256'] }).then(
        (r) => r.payload,
        () => undefined,
      );
    }
    if (!payload && jwks) {
      payload = await jwtVerify(token, jwks, { ...verifyOptions, currentDate, algorithms: ['RS256', 'ES256'] }).then(
        (r) => r.payload,
        () => undefined,
      );
    }
    if (!payload || typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number') return undefined;
    const issuedAt = typeof payload.iat === 'number' ? payload.iat : options.now();
    const lifetime = payload.exp - Math.min(issuedAt, options.now());
    if (lifetime > options.maxLifetimeSeconds) return undefined;
    const email = typeof payload.email === 'string' && payload.email !== '' ? payload.email : `${payload.sub}@supabase.invalid`;
    // Only the top-level claim: user_metadata is writable by the user (supabase.auth.updateUser).
    return { sub: payload.sub, email, emailVerified: payload.email_verified === true, expiresAt: new Date(payload.exp * 1000) };
  };
}
