/**
 * How a secret is shown: a short well-known prefix (`sk-`, `gsk_`) and the last four characters,
 * e.g. `sk-…abcd`. Short secrets show no tail at all, since four characters would be a big part
 * of them.
 */
export function maskSecret(secret: string): string {
  const prefix = /^[A-Za-z]{1,4}[-_]/.exec(secret)?.[0] ?? '';
  const tail = secret.length >= 16 ? secret.slice(-4) : '';
  return `${prefix}…${tail}`;
}
