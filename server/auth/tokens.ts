import { createHash, randomBytes } from 'node:crypto';

// Bearer tokens are opaque random strings, not JWTs: the server must look a token up anyway to
// honour logout and revocation, and an opaque token carries no claims to leak or to forge. Only
// its SHA-256 is stored (a token has 256 bits of entropy, so a fast hash is enough).
const PREFIX = 'sk_sess_';

export function newSessionToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeSessionToken(token: string): boolean {
  return token.startsWith(PREFIX) && token.length === PREFIX.length + 43;
}
