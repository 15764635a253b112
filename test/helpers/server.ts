import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/logger.js';
import type { Clock } from '../../core/clock.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { createTestDatabase, type DatabaseKind } from './databases.js';
import { Writable } from 'node:stream';

export interface TestServer extends RunningServer {
  /** Every log line the server wrote, as text (for "no secret in the logs" checks). */
  logs: string[];
  dataDir: string;
  close(): Promise<void>;
}

/** A real HTTP server on a free loopback port, on an isolated database of the given kind. */
export async function startTestServer(
  kind: DatabaseKind,
  overrides: Record<string, string | number | boolean> = {},
  options: { clock?: Clock } = {},
): Promise<TestServer> {
  const t = await createTestDatabase(kind, { migrate: false });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-test-'));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const running = await startServer({
    env: {},
    // Measured quotas unless a test asks for volumes: a loop mount outlives a test's temporary directory.
    overrides: { PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_AUTH_RATE_LIMIT: 1000, SAMOKODER_WORKSPACE_QUOTA: 'reactive', ...overrides },
    db: t.db,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    ...running,
    logs,
    dataDir,
    close: async () => {
      await running.stop();
      await t.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A tiny JSON client over real HTTP (Node's fetch). */
export function apiClient(baseUrl: string) {
  return async function api<T = any>(method: string, p: string, options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + p, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };
}

export async function registerUser(api: ReturnType<typeof apiClient>, email?: string): Promise<{ token: string; userId: string; email: string }> {
  const e = email ?? `user-${Math.random().toString(36).slice(2)}@example.com`;
  const res = await api('POST', '/api/auth/register', { body: { email: e, password: 'correct horse battery' } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { token: res.body.token, userId: res.body.user.id, email: e };
}
