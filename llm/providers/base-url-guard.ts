import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { addressRefusal, guardedLookup, urlRefusal, type AddressPolicy } from '../../core/net/address-guard.js';

/**
 * SSRF protection of the base URLs users store with their keys (core/net/address-guard.ts): the
 * service sends requests there (the key check, every run's model calls), so a key must not point
 * it at the cloud metadata endpoint, its own database or the operator's private network.
 * Link-local (metadata) and other reserved addresses are refused always; loopback and private ones
 * only with SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=false (a hosted multi-tenant deployment), since
 * by default self-hosters reach Ollama or LM Studio on localhost or their LAN. The operator's own
 * endpoints (SAMOKODER_*_BASE_URL, the providers' defaults) are trusted and not checked.
 */
export const ALLOW_PRIVATE_BASE_URLS_SETTING = 'SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS';

function policy(allowPrivate: boolean): AddressPolicy {
  return { allowPrivate, setting: ALLOW_PRIVATE_BASE_URLS_SETTING, privateUse: 'runs its model server (Ollama, LM Studio, vLLM) on its own network' };
}

/** Why a base URL is refused from the URL alone (a literal IP, localhost), or undefined; names are checked when connecting. */
export function baseUrlRefusal(url: URL, allowPrivate: boolean): string | undefined {
  return urlRefusal(url, policy(allowPrivate));
}

/**
 * A connection to a key's base URL refused because of the address it would reach. The message
 * names the host and the address class, not the address a name resolved to (it reaches the user,
 * who has no business learning the operator's internal DNS).
 */
export class BaseUrlRefusedError extends Error {
  constructor(reason: string) {
    super(`base URL refused: ${reason}`);
    this.name = 'BaseUrlRefusedError';
  }
}

/**
 * undici's connector with the address check: names through guardedLookup, and literal IPs (which
 * Node connects to without calling `lookup`) here — so a redirect to 169.254.169.254 is refused too.
 * Every socket of the agent is made here, so a pooled connection was checked when it was opened.
 */
function guardedConnector(allowPrivate: boolean): buildConnector.connector {
  const p = policy(allowPrivate);
  const connect = buildConnector({
    lookup: guardedLookup(p, (hostname, resolved) => new BaseUrlRefusedError(`${hostname} resolves to ${resolved ? resolved.why : 'no address'}`)),
  });
  return (options, callback) => {
    const why = isIP(options.hostname) ? addressRefusal(options.hostname, p) : undefined;
    if (why !== undefined) return callback(new BaseUrlRefusedError(`${options.hostname} is ${why}`), null);
    return connect(options, callback);
  };
}

const guardedFetches = new Map<boolean, typeof globalThis.fetch>();

/**
 * The fetch SDK clients get for a key's own base URL: undici's, through one agent per setting,
 * shared by every call (its connection pool too). A refused connection rejects the fetch with a
 * BaseUrlRefusedError in its cause chain (classifyProviderError finds it there).
 */
export function guardedFetch(allowPrivate: boolean): typeof globalThis.fetch {
  let f = guardedFetches.get(allowPrivate);
  if (!f) {
    const dispatcher = new Agent({ connect: guardedConnector(allowPrivate) });
    // undici's own fetch: a dispatcher of the undici package must be paired with its fetch, not
    // Node's bundled one. Its Request/Response are the WHATWG ones the SDKs expect.
    f = ((input, init) => undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as typeof globalThis.fetch;
    guardedFetches.set(allowPrivate, f);
  }
  return f;
}
