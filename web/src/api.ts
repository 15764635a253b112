// The REST client: bearer token from the session, JSON in and out, errors as ApiError with the
// server's `{error:{code,message}}`.
import type { ErrorBody } from '../../protocol/api-types.js';
import { session } from './session.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// The response types are the server's own (protocol/api-types.ts), imported as types only.
export type { ApiKey, ChatTurn, Commit, Diff, FileContent, Me, Plan, Project, Run, Session, Step, TreeEntry, Usage, User } from '../../protocol/api-types.js';

async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  // FormData (an upload) goes as multipart/form-data with the browser's boundary.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : form ? body : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'E_NETWORK', 'The service did not answer. Is it running?');
  }
  if (res.ok) return res;
  let code = `E_HTTP_${res.status}`;
  let message = `${method} ${path} failed (${res.status})`;
  try {
    const j = (await res.json()) as Partial<ErrorBody>;
    if (j.error?.code) code = j.error.code;
    if (j.error?.message) message = j.error.message;
  } catch {
    // not JSON
  }
  if (res.status === 401 && token) session.clear();
  throw new ApiError(res.status, code, message);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The response as it came (for file contents that may be JSON or text, and ZIP exports). */
export const raw = (method: string, path: string, body?: unknown) => request(method, path, body);

/** The first array found under one of `keys` (list endpoints wrap their items; this keeps the UI tolerant). */
export function listOf<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[];
  const o = (body ?? {}) as Record<string, unknown>;
  for (const k of [...keys, 'items', 'data']) if (Array.isArray(o[k])) return o[k] as T[];
  return [];
}

/** `{run: {...}}` or the run itself. */
export function itemOf<T>(body: unknown, key: string): T {
  const o = (body ?? {}) as Record<string, unknown>;
  return (o[key] && typeof o[key] === 'object' ? o[key] : body) as T;
}

export const enc = encodeURIComponent;
export const filePath = (p: string) => p.split('/').map(enc).join('/');
