import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers of a webhook delivery. */
export const SIGNATURE_HEADER = 'x-samokoder-signature';
export const TIMESTAMP_HEADER = 'x-samokoder-timestamp';

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. The timestamp (Unix seconds, also
 * sent in X-Samokoder-Timestamp) is inside the signed text, so a receiver that rejects old
 * timestamps cannot be fed a replayed delivery (Stripe's scheme).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): constant-time check of a delivery's signature. */
export function verifyWebhookSignature(secret: string, timestamp: number, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
