import type { ErrorBody } from '../protocol/api-types.js';
import { CliError, exitCodeForApiError } from './exit-codes.js';

/** A small client of the REST API; errors become CliErrors with the server's message and a fitting exit code. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    // A FormData body (an upload) is sent as multipart/form-data, with the boundary fetch chooses.
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl.replace(/\/$/, '') + path, { method, headers, body: body === undefined ? undefined : form ? body : JSON.stringify(body) });
    } catch (err) {
      throw new CliError(`cannot reach ${this.baseUrl} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}). Is the service running? Set --url or SAMOKODER_URL.`);
    }
    if (res.ok) return res;
    let code = `E_HTTP_${res.status}`;
    let message = `${method} ${path} failed with HTTP ${res.status}`;
    try {
      const j = (await res.json()) as Partial<ErrorBody>;
      if (j.error?.code) code = j.error.code;
      if (j.error?.message) message = j.error.message;
    } catch {
      // not JSON
    }
    if (code === 'E_AUTH' && !this.token) message += ' Pass --token or set SAMOKODER_TOKEN.';
    throw new CliError(`${message} (${code})`, exitCodeForApiError(code, res.status));
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export const enc = encodeURIComponent;
