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

export function createLogger(options: { level: string; destination?: DestinationStream; name?: string }): Logger {
  return pino(
    {
      name: options.name ?? 'samokoder',
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Asynchronous stdout by default: a synchronous write per line costs a syscall on the request
    // path, and under load sonic-boom batches lines into fewer writes. pino flushes it on exit;
    // only lines still buffered when the process is SIGKILLed can be lost.
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
