import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { loadConfig } from '../../core/config.js';
import { redactText, scrubEvent } from '../../core/error-tracking.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';
import { apiClient, registerUser } from '../helpers/server.js';

const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');
const marker = (what: string) => `${what}${randomBytes(8).toString('hex')}`;

/** A Sentry ingest stand-in on loopback: records every envelope it is sent, decompressed. */
async function startFakeIngest(): Promise<{ port: number; envelopes: Array<{ path: string; body: string }>; close(): Promise<void> }> {
  const envelopes: Array<{ path: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      envelopes.push({ path: req.url ?? '', body: body.toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    envelopes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The error events of an envelope (its items are newline-separated JSON: header, item header, payload, ...). */
function errorEvents(body: string): Array<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const lines = body.split('\n').filter(Boolean);
  const events = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    if ((JSON.parse(lines[i]!) as { type?: string }).type === 'event') events.push(JSON.parse(lines[i + 1]!));
  }
  return events;
}

beforeAll(() => ensureBuilt());

describe('error tracking (Sentry) against a fake ingest endpoint', () => {
  const started: ServiceProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const c of cleanups.reverse()) await c();
  });

  test('an internal error of a request reaches the endpoint with its type, code, route and stack, and none of the key, token, prompt or file content', async () => {
    const ingest = await startFakeIngest();
    cleanups.push(ingest.close);
    const { url: databaseUrl, drop } = await createEmptyPgDatabase();
    cleanups.push(drop);
    const dataDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'samokoder-sentry-'))));
    cleanups.push(async () => {
      for (const d of dataDirs) await rm(d, { recursive: true, force: true });
    });
    const platformKey = marker('sk-ant-api03-platform');
    const common = { DATABASE_URL: databaseUrl, SAMOKODER_MASTER_KEY: MASTER_KEY, SAMOKODER_SANDBOX: 'off', SAMOKODER_RUN_WORKER: 'false', SAMOKODER_PLATFORM_KEYS_ANTHROPIC: platformKey };
    // Two nodes on one database: one reports, one has no DSN.
    const reporting = await startServiceProcess({ ...common, SAMOKODER_DATA_DIR: dataDirs[0]!, SENTRY_DSN: `http://publickey@127.0.0.1:${ingest.port}/1`, SENTRY_ENVIRONMENT: 'ci', SENTRY_RELEASE: 'samokoder@test' });
    started.push(reporting);
    const silent = await startServiceProcess({ ...common, SAMOKODER_DATA_DIR: dataDirs[1]! });
    started.push(silent);
    expect(reporting.lines.some((l) => l.msg === 'error tracking on: unexpected errors are reported to Sentry (scrubbed)')).toBe(true);
    expect(silent.lines.some((l) => String(l.msg).startsWith('error tracking on'))).toBe(false);

    const api = apiClient(reporting.url);
    const { token } = await registerUser(api);
    const created = await api('POST', '/api/projects', { token, body: { prompt: 'a todo app' } });
    expect(created.status).toBe(201);
    const projectId = created.body.project.id as string;
    const fileContent = marker('FILE-CONTENT-');
    await mkdir(path.join(dataDirs[0]!, 'workspaces', projectId), { recursive: true });
    await writeFile(path.join(dataDirs[0]!, 'workspaces', projectId, 'notes.txt'), fileContent);

    // The database fails under the service: two tables gone, as after a botched manual change.
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query('ALTER TABLE projects RENAME TO projects_moved');
    await admin.query('ALTER TABLE api_keys RENAME TO api_keys_moved');

    const apiKey = marker('sk-ant-api03-user');
    const prompt = marker('PROMPT-TEXT-');
    const silentApi = apiClient(silent.url);
    const silentId = marker('silent-');
    const unreported = await silentApi('POST', '/api/projects', { token, body: { prompt }, headers: { 'x-request-id': silentId } });
    expect(unreported.status).toBe(500);

    const requests = [
      { method: 'POST', path: '/api/user/api-keys', body: { provider: 'anthropic', apiKey, label: 'mine' }, route: '/api/user/api-keys' },
      { method: 'POST', path: '/api/projects', body: { prompt: `${prompt}\nwith ${apiKey}` }, route: '/api/projects' },
      { method: 'GET', path: `/api/projects/${projectId}/files/notes.txt`, body: undefined, route: '/api/projects/:id/files/*path' },
    ];
    const requestIds: string[] = [];
    for (const r of requests) {
      const requestId = marker('req-');
      requestIds.push(requestId);
      const res = await api(r.method, `${r.path}?token=${token}`, { token, body: r.body, headers: { 'x-request-id': requestId, cookie: `session=${token}` } });
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 500, code: 'E_INTERNAL' });
    }

    // Delivery is asynchronous: wait (generously) until every report arrived.
    const arrived = () => Promise.resolve(ingest.envelopes.flatMap((e) => errorEvents(e.body)).filter((e) => requestIds.includes(e.tags?.requestId)).length);
    expect(await eventually(arrived, requests.length, 60_000)).toBe(requests.length);
    expect(ingest.envelopes.every((e) => e.path.split('?')[0] === '/api/1/envelope/')).toBe(true);

    const raw = ingest.envelopes.map((e) => e.body).join('\n');
    for (const secret of [apiKey, token, prompt, fileContent, platformKey, MASTER_KEY, 'publickey@']) expect(raw).not.toContain(secret);
    expect(raw.toLowerCase()).not.toContain('authorization');
    expect(raw).not.toContain('session=');
    // The node without a DSN reported nothing (its failure came first; everything after it arrived).
    expect(raw).not.toContain(silentId);

    const events = ingest.envelopes.flatMap((e) => errorEvents(e.body));
    for (const [i, r] of requests.entries()) {
      const event = events.find((e) => e.tags?.requestId === requestIds[i])!;
      expect(event.tags).toMatchObject({ component: 'http', route: r.route, method: r.method, status: '500', code: 'E_INTERNAL' });
      expect(event.environment).toBe('ci');
      expect(event.release).toBe('samokoder@test');
      expect(event.request).toBeUndefined();
      const exception = event.exception.values.at(-1);
      // pg's error: its type, its message (what failed) and the stack into our code.
      expect(exception.type).toBe('error');
      expect(exception.value).toMatch(/relation "(projects|api_keys)" does not exist/);
      const frames = exception.stacktrace.frames as Array<Record<string, unknown>>;
      expect(frames.length).toBeGreaterThan(0);
      expect(frames.some((f) => String(f.filename).includes('/dist/'))).toBe(true);
      for (const f of frames) {
        expect(typeof f.lineno).toBe('number');
        expect(f.vars).toBeUndefined();
        expect(f.context_line).toBeUndefined();
      }
    }
    await admin.query('ALTER TABLE projects_moved RENAME TO projects');
    await admin.query('ALTER TABLE api_keys_moved RENAME TO api_keys');
  }, 180_000);
});

describe('scrubbing', () => {
  test('keys, tokens, credentials in URLs and configured secrets are masked in any text', () => {
    const text = [
      'sk-ant-api03-abcdefghijklmnop', 'sk-proj-abcdefghijkl', 'sk-or-v1-abcdefghijkl', 'gsk_abcdefghijklmnop', 'sk_sess_abcdefghijklmnop',
      'Authorization: Bearer abc.def.ghijkl', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'postgres://user:hunter2secret@db/x', 'wss://h/ws?token=opaque123',
    ].join(' | ');
    const out = redactText(text);
    for (const leaked of ['abcdefghijkl', 'abc.def', 'eyJ', 'hunter2secret', 'opaque123']) expect(out).not.toContain(leaked);
    expect(redactText('relation "projects" does not exist')).toBe('relation "projects" does not exist');
    expect(redactText('x'.repeat(2000)).length).toBeLessThan(600);
  });

  test('an event loses its request, local variables, source lines and sensitive fields; ids and frames stay', () => {
    const event = scrubEvent({
      request: { url: 'http://h/api?token=x', headers: { authorization: 'Bearer x' }, data: '{"prompt":"p"}', cookies: { s: 'x' } },
      user: { id: 'u1', email: 'a@b.c', ip_address: '1.2.3.4' },
      exception: { values: [{ type: 'Error', value: 'failed with sk-ant-api03-abcdefghijk', stacktrace: { frames: [{ filename: '/app/dist/x.js', function: 'f', lineno: 3, vars: { apiKey: 'k' }, context_line: 'const k = 1', pre_context: ['a'], post_context: ['b'] }] } }] },
      extra: { runId: 'r1', prompt: 'build me', nested: { messages: [{ content: 'hi' }], projectId: 'p1' } },
      breadcrumbs: [{ category: 'http', message: 'GET http://h/?api_key=zzzzzz', data: { url: 'x', headers: { cookie: 'c' }, status_code: 500 } }],
      tags: { route: '/api/projects', token: 'x' },
    });
    expect(event.request).toBeUndefined();
    expect(event.user).toEqual({ id: 'u1' });
    expect(event.exception!.values![0]!.value).toBe('failed with [Filtered]');
    expect(event.exception!.values![0]!.stacktrace!.frames![0]).toEqual({ filename: '/app/dist/x.js', function: 'f', lineno: 3 });
    expect(event.extra).toEqual({ runId: 'r1', prompt: '[Filtered]', nested: { messages: '[Filtered]', projectId: 'p1' } });
    expect(event.breadcrumbs![0]).toEqual({ category: 'http', message: 'GET http://h/?api_key=[Filtered]', data: { url: 'x', headers: '[Filtered]', status_code: 500 } });
    expect(event.tags).toEqual({ route: '/api/projects', token: '[Filtered]' });
  });

  test('SENTRY_DSN must be a DSN; environment defaults to production', () => {
    expect(() => loadConfig({ SENTRY_DSN: 'http://127.0.0.1:9/1' })).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('SENTRY_DSN') }));
    expect(loadConfig({}).errorTracking).toEqual({ dsn: undefined, environment: 'production', release: undefined });
  });
});
