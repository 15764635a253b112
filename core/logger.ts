import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out before a line is written. Secrets should never reach a log call in the
 * first place; this is the second line of defence for request logs and error objects.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

/**
 * Shapes of credentials, blanked in every line as it is written: the last line of defence for a
 * secret inside free text (an error message, a stack, a cause), where REDACT_PATHS cannot reach.
 * The first line is the LLM layer's scrubbing of each call's own credentials (scrub-secrets.ts).
 */
const SECRET_SHAPES: readonly RegExp[] = [
  // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), OpenRouter (sk-or-v1-), and Samokoder's sk_sess_ tokens.
  /\b(sk[-_])[A-Za-z0-9_-]{16,}/g,
  // Groq.
  /\b(gsk_)[A-Za-z0-9]{16,}/g,
  // GitHub tokens (git credentials).
  /\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}/g,
  // Google API keys.
  /\b(AIza)[0-9A-Za-z_-]{30,}/g,
  // Anything sent as a bearer token.
  /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi,
];

export function redactSecretShapes(line: string): string {
  let out = line;
  for (const shape of SECRET_SHAPES) out = out.replace(shape, '$1[redacted]');
  return out;
}

export function createLogger(options: { level: string; destination?: DestinationStream; name?: string }): Logger {
  return pino(
    {
      name: options.name ?? 'samokoder',
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: redactSecretShapes },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Asynchronous stdout by default: a synchronous write per line costs a syscall on the request
    // path, and under load sonic-boom batches lines into fewer writes. pino flushes it on exit;
    // only lines still buffered when the process is SIGKILLed can be lost.
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
