import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, isAppError } from '../../core/errors.js';
import { reportError } from '../../core/error-tracking.js';
import type { Logger } from '../../core/logger.js';

/** Maps body-parser's errors (which carry a `type`) to catalogue errors with a useful message. */
function fromBodyParser(err: unknown): AppError | undefined {
  // Express's router throws this (status 400) for a path like /api/projects/%E0%A4%A.
  if (err instanceof URIError) return new AppError('E_VALIDATION', 'The URL has malformed percent-encoding; encode each path segment with encodeURIComponent.');
  const type = (err as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return new AppError('E_BAD_JSON', 'The request body is not valid JSON. Send a JSON document with Content-Type: application/json.');
    case 'entity.too.large': {
      const limit = (err as { limit?: number }).limit;
      return new AppError('E_PAYLOAD_TOO_LARGE', `The request body is larger than the limit${limit ? ` of ${limit} bytes` : ''}. Send a smaller body.`);
    }
    case 'encoding.unsupported':
      return new AppError(
        'E_UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding ${JSON.stringify((err as { encoding?: unknown }).encoding ?? '')} is not supported. Send the body as it is, or encoded with gzip, deflate or br.`,
      );
    case 'charset.unsupported':
      return new AppError('E_UNSUPPORTED_MEDIA_TYPE', 'The request body must be UTF-8 JSON (Content-Type: application/json; charset=utf-8).');
    case 'request.aborted':
      return new AppError('E_VALIDATION', 'The request body was cut off before it was complete.');
    default:
      return isDecompressionError(err)
        ? new AppError('E_BAD_ENCODING', 'The request body does not decode with its Content-Encoding. Send it compressed as the header says, or drop the header.')
        : undefined;
  }
}

/**
 * zlib's errors (gzip, deflate, br) reach the error handler as body-parser passes them on: with
 * status 400 but no `type`, and zlib's numeric `errno`. They are the client's bad body, not ours.
 */
function isDecompressionError(err: unknown): boolean {
  const e = err as { status?: unknown; errno?: unknown; code?: unknown } | null;
  return e !== null && typeof e === 'object' && e.status === 400 && typeof e.errno === 'number' && typeof e.code === 'string';
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('E_NOT_FOUND', `No route ${req.method} ${req.path}. See /api/openapi.json for the API.`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = isAppError(err) ? err : fromBodyParser(err);
    const error = appError ?? new AppError('E_INTERNAL', 'Internal error. Quote the x-request-id header when reporting it.');
    const log = (req as { log?: Logger }).log ?? logger;
    if (!appError) log.error({ err }, 'unhandled error');
    else if (error.status >= 500) log.error({ err }, error.message);
    // Only the server's own failures: a dependency being down (503) is an outage, not a bug.
    if (error.status === 500) {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      reportError(err, { component: 'http', route, method: req.method, status: error.status, code: error.code, requestId: req.id });
    }
    if (res.headersSent) {
      // A streaming response already started: the status is gone, only the connection can say it failed.
      res.destroy();
      return;
    }
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.ceil(error.retryAfterSeconds)));
    res.status(error.status).json(error.toJSON());
  };
}
