import { SignJWT } from 'jose';

/** An HS256 Supabase-style access token: `aud` authenticated, `iat` now, `exp` as given (seconds from now; null for none). */
export async function signSupabaseToken(
  secret: string,
  claims: Record<string, unknown> & { sub: string },
  options: { expiresInSeconds?: number | null; issuedAtOffsetSeconds?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ role: 'authenticated', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setAudience('authenticated')
    .setIssuedAt(now + (options.issuedAtOffsetSeconds ?? 0));
  const expiresIn = options.expiresInSeconds === undefined ? 3600 : options.expiresInSeconds;
  if (expiresIn !== null) jwt.setExpirationTime(now + expiresIn);
  return jwt.sign(new TextEncoder().encode(secret));
}
