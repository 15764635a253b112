import { createHash } from 'node:crypto';

/**
 * A JSON response body serialised once, with its ETag, for a body sent many times (a cached page):
 * each send then skips JSON.stringify and the ETag's hash. Handlers return it as their `body`.
 * The ETag has Express's own weak form, so a client's If-None-Match gets a 304 either way.
 */
export class SerializedJson {
  readonly bytes: Buffer;
  readonly etag: string;

  constructor(value: unknown) {
    this.bytes = Buffer.from(JSON.stringify(value), 'utf8');
    this.etag = `W/"${this.bytes.length.toString(16)}-${createHash('sha1').update(this.bytes).digest('base64').slice(0, 27)}"`;
  }
}
