import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface SupabaseIdentity {
  sub: string;
  email: string;
  /** The token's `exp`, when it has one. */
  expiresAt?: Date;
}

export interface SupabaseVerifierOptions {
  jwtSecret: string | undefined;
  jwksUrl: string | undefined;
  audience: string;
  issuer: string | undefined;
}

export type SupabaseVerifier = (token: string) => Promise<SupabaseIdentity | undefined>;

/**
 * Verifies Supabase access tokens: HS256 with the project's JWT secret, or RS256/ES256 through the
 * project's JWKS (fetched and cached by jose). Returns undefined for any token that does not
 * verify; the caller answers E_AUTH without saying why, so nothing is learnt by probing.
 */
export function createSupabaseVerifier(options: SupabaseVerifierOptions): SupabaseVerifier | undefined {
  const { jwtSecret, jwksUrl } = options;
  if (!jwtSecret && !jwksUrl) return undefined;
  const secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : undefined;
  const jwks: JWTVerifyGetKey | undefined = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : undefined;
  const verifyOptions = {
    audience: options.audience,
    ...(options.issuer ? { issuer: options.issuer } : {}),
  };
  return async (token) => {
    let payload: JWTPayload | undefined;
    if (secret) {
      payload = await jwtVerify(token, secret, { ...verifyOptions, algorithms: ['HS256'] }).then(
        (r) => r.payload,
        () => undefined,
      );
    }
    if (!payload && jwks) {
      payload = await jwtVerify(token, jwks, { ...verifyOptions, algorithms: ['RS256', 'ES256'] }).then(
        (r) => r.payload,
        () => undefined,
      );
    }
    if (!payload || typeof payload.sub !== 'string' || payload.sub === '') return undefined;
    const email = typeof payload.email === 'string' && payload.email !== '' ? payload.email : `${payload.sub}@supabase.invalid`;
    return { sub: payload.sub, email, ...(typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000) } : {}) };
  };
}
