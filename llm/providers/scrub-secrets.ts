import { maskSecret } from '../../keys/mask.js';
import type { ProviderCredentials } from './port.js';

/**
 * Providers echo credentials back ("Incorrect API key provided: sk-…"), in an HTTP error body, an
 * SSE error event or a 200 whose body is an error. The SDKs put that text in their error's message
 * (so also its stack), its `error` body and its headers, and wrap it in causes. Everything an
 * adapter throws passes scrubError on its way out of the model, before anything can log, store,
 * emit or return it.
 */

// Shorter "keys" (Ollama's "ollama", a local server's "x") protect nothing, and replacing such
// common words everywhere would garble the messages that are meant to help.
const MIN_SECRET_LENGTH = 8;
const MAX_CAUSE_DEPTH = 8;

export interface CallSecret {
  value: string;
  /** What the value is replaced with. */
  replacement: string;
}

/** The secrets a call carries: its API key, and any credential written into its base URL (user:password@, ?key=…). */
export function callSecrets(credentials: Pick<ProviderCredentials, 'apiKey' | 'baseUrl'>): CallSecret[] {
  const secrets: CallSecret[] = [{ value: credentials.apiKey, replacement: maskSecret(credentials.apiKey) }];
  if (credentials.baseUrl && URL.canParse(credentials.baseUrl)) {
    const url = new URL(credentials.baseUrl);
    for (const value of [url.username, url.password, ...url.searchParams.values()]) {
      for (const form of new Set([value, safeDecode(value)])) secrets.push({ value: form, replacement: '[redacted]' });
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  return secrets.filter((s) => s.value.length >= MIN_SECRET_LENGTH).sort((a, b) => b.value.length - a.value.length);
}

export function scrubText(text: string, secrets: readonly CallSecret[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s.value)) out = out.split(s.value).join(s.replacement);
  return out;
}

/**
 * `err` without any of `secrets`: its own message and stack are rewritten in place (its class and
 * fields stay), and each cause becomes a plain Error copy with the facts that are safe and useful
 * (name, message, stack, status, code, type, the error body) scrubbed. Response headers are dropped.
 */
export function scrubError<T>(err: T, secrets: readonly CallSecret[]): T {
  if (secrets.length === 0 || !(err instanceof Error)) return err;
  err.message = scrubText(err.message, secrets);
  if (err.stack) err.stack = scrubText(err.stack, secrets);
  if (err.cause !== undefined) {
    Object.defineProperty(err, 'cause', { value: scrubCause(err.cause, secrets, 1), writable: true, configurable: true, enumerable: false });
  }
  return err;
}

function scrubCause(cause: unknown, secrets: readonly CallSecret[], depth: number): unknown {
  if (depth > MAX_CAUSE_DEPTH) return undefined;
  if (typeof cause === 'string') return scrubText(cause, secrets);
  if (!(cause instanceof Error)) return typeof cause === 'object' && cause !== null ? scrubValue(cause, secrets, depth) : cause;
  const source = cause as Error & { status?: unknown; code?: unknown; type?: unknown; error?: unknown };
  const copy = new Error(scrubText(source.message, secrets)) as Error & Record<string, unknown>;
  copy.name = source.name === 'Error' ? (source.constructor?.name ?? 'Error') : source.name;
  copy.stack = source.stack === undefined ? undefined : scrubText(source.stack, secrets);
  for (const key of ['status', 'code', 'type'] as const) {
    const value = source[key];
    if (typeof value === 'number') copy[key] = value;
    else if (typeof value === 'string') copy[key] = scrubText(value, secrets);
  }
  if (source.error !== undefined) copy.error = scrubValue(source.error, secrets, depth);
  if (source.cause !== undefined) copy.cause = scrubCause(source.cause, secrets, depth + 1);
  return copy;
}

/** A JSON-like value (an SDK's parsed error body) with every string scrubbed; bounded in depth. */
function scrubValue(value: unknown, secrets: readonly CallSecret[], depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_CAUSE_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, secrets, depth + 1)]));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
