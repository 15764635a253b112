import type { LookupFunction } from 'node:net';
import * as guard from '../core/net/address-guard.js';

/**
 * SSRF protection of webhook targets (core/net/address-guard.ts): public addresses are delivered
 * to; loopback and private-network ones only when the operator sets
 * SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true (a self-hosted deployment on its own network); link-local
 * (cloud metadata) and other reserved ones never.
 */
export { classifyAddress, urlHost, type AddressClass } from '../core/net/address-guard.js';

function policy(allowPrivate: boolean): guard.AddressPolicy {
  return { allowPrivate, setting: 'SAMOKODER_WEBHOOK_ALLOW_PRIVATE', privateUse: 'delivers webhooks inside its own network' };
}

/** Why delivering to the URL's literal IP or localhost host is refused, or undefined (names: guardedLookup). */
export function urlRefusal(url: URL, allowPrivate: boolean): string | undefined {
  return guard.urlRefusal(url, policy(allowPrivate));
}

/** A delivery refused because of where it would go; final, never retried. */
export class WebhookTargetRefusedError extends Error {
  constructor(reason: string) {
    super(`E_WEBHOOK_TARGET: webhook target refused: ${reason}`);
    this.name = 'WebhookTargetRefusedError';
  }
}

/** The lookup deliveries connect through: a name resolving to a refused address fails with WebhookTargetRefusedError. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return guard.guardedLookup(policy(allowPrivate), (hostname, resolved) =>
    new WebhookTargetRefusedError(resolved ? `${hostname} resolves to ${resolved.address}, ${resolved.why}` : `${hostname} resolves to no address`));
}
