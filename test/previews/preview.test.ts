import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { apiClient, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/eventually.js';
import { seedTenant, type Api, type Tenant } from '../api/fixtures.js';
import { appendEvent } from '../../events/run-events.js';
import { commitMessage, seedApp, startPreviewServer } from './app-fixture.js';
import { ensureCliBuilt, runCli } from '../cli/cli.js';
import { freePort } from '../helpers/ports.js';
import { get, open, request } from './preview-client.js';

const run = promisify(execFile);
const SECRET = `s3cr3t-${randomUUID()}`;

// Both data planes serve the same contract: HAProxy in front of the Node preview server (the
// default where HAProxy is installed), and the Node server alone. The lifecycle tests, which do not
// depend on the plane, run once.
describe.each([['haproxy'], ['node']] as const)('live preview (%s data plane): a real sandbox container behind the preview proxy', (dataPlane) => {
  const once = dataPlane === 'haproxy' ? test : test.skip;
  let server: TestServer;
  let api: Api;
  let port: number;
  let owner: Tenant;
  let other: Tenant;
  const namespace = `test-preview-${randomUUID().slice(0, 8)}`;
  const hostOf = (projectId: string): string => `${projectId}.localhost:${port}`;

  beforeAll(async () => {
    ({ server, port } = await startPreviewServer(namespace, { SAMOKODER_PREVIEW_IDLE_SECONDS: 20, SAMOKODER_PREVIEW_DATA_PLANE: dataPlane }));
    expect(server.preview.dataPlane).toBe(dataPlane);
    api = apiClient(server.url);
    owner = await seedTenant(server, api);
    other = await seedTenant(server, api);
    await seedApp(server, owner.projectId, owner.runId, 'hello v1');
    await seedApp(server, other.projectId, other.runId, 'the other app');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=samokoder.namespace=${namespace}`]);
    expect(stdout.trim()).toBe('');
  });

  test('project variables: names only come back, the database holds no plaintext', async () => {
    const put = await api('PUT', `/api/projects/${owner.projectId}/env`, { token: owner.token, body: { vars: { APP_SECRET: SECRET, DROP_ME: 'x1234' } } });
    expect(put.status).toBe(200);
    expect(put.text).not.toContain(SECRET);
    expect((await api('DELETE', `/api/projects/${owner.projectId}/env/DROP_ME`, { token: owner.token })).status).toBe(204);
    const list = await api('GET', `/api/projects/${owner.projectId}/env`, { token: owner.token });
    expect(list.body.vars.map((v: { name: string }) => v.name)).toEqual(['APP_SECRET']);
    expect(list.text).not.toContain(SECRET);
    const raw = await server.ctx.db.query<{ j: string }>('SELECT to_jsonb(e)::text AS j FROM project_env e');
    expect(raw.rows).toHaveLength(1);
    expect(raw.rows[0]!.j).not.toContain(SECRET);
    expect(raw.rows[0]!.j).not.toContain(Buffer.from(SECRET).toString('hex'));
    // Another user cannot read or write them; bad names and reserved names are 400.
    expect((await api('GET', `/api/projects/${owner.projectId}/env`, { token: other.token })).status).toBe(404);
    expect((await api('PUT', `/api/projects/${owner.projectId}/env`, { token: owner.token, body: { vars: { 'bad-name': 'x' } } })).body.error.code).toBe('E_VALIDATION');
    expect((await api('PUT', `/api/projects/${owner.projectId}/env`, { token: owner.token, body: { vars: { PORT: '1' } } })).body.error.code).toBe('E_VALIDATION');
  });

  test("asking a stopped preview's status makes a spare network ready for its start (a network and a holder of no project)", async () => {
    const spares = async (): Promise<string> => {
      const { stdout } = await run('docker', ['ps', '--filter', `label=samokoder.namespace=${namespace}`, '--format', '{{.Label "samokoder.project"}}|{{.State}}']);
      return stdout.split('\n').filter((l) => l === '|running').length.toString();
    };
    expect(await spares()).toBe('0');
    expect((await api('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).status).toBe(200);
    expect(await eventually(spares, '1', 60_000)).toBe('1');
  }, 90_000);

  test('start → 404 without a grant, the grant becomes an HttpOnly cookie, then the app answers (with its secret, never our cookie)', async () => {
    const started = await api('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    expect(started.status).toBe(200);
    expect(started.body.status).toBe('running');
    const url = new URL(started.body.url);
    expect(url.host).toBe(hostOf(owner.projectId));
    expect(url.port).not.toBe(new URL(server.url).port);

    expect((await get(port, hostOf(owner.projectId), '/')).status).toBe(404);
    expect((await get(port, hostOf(owner.projectId), '/?samokoder_grant=forged.jwt.value')).status).toBe(404);
    const { cookie, location } = await open(port, started.body.url);
    expect(location).toBe('/');
    const page = await get(port, hostOf(owner.projectId), '/', cookie);
    expect(page.status).toBe(200);
    expect(page.body).toBe('<h1>hello v1</h1>');
    expect((await get(port, hostOf(owner.projectId), '/env', cookie)).body).toBe('secret:set');
    expect((await get(port, hostOf(owner.projectId), '/cookies', `${cookie}; theirs=1`)).body).toBe('cookies:theirs=1');

    // The API's answers and the app's output name the secret, never show it.
    const status = await api('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    expect(status.body.output).toContain('starting with secret [APP_SECRET]');
    expect(status.text).not.toContain(SECRET);
  }, 120_000);

  test("another user's project is 404: no grant from the API, and a cookie for another host does not open it", async () => {
    expect((await api('POST', `/api/projects/${owner.projectId}/preview`, { token: other.token })).status).toBe(404);
    expect((await api('GET', `/api/projects/${owner.projectId}/preview`, { token: other.token })).status).toBe(404);
    const theirs = await api('POST', `/api/projects/${other.projectId}/preview`, { token: other.token });
    expect(theirs.body.status).toBe('running');
    const { cookie } = await open(port, theirs.body.url);
    expect((await get(port, hostOf(other.projectId), '/', cookie)).body).toBe('<h1>the other app</h1>');
    expect((await get(port, hostOf(owner.projectId), '/', cookie)).status).toBe(404);
    // Their grant presented on the owner's host: 404 too.
    const grant = new URL(theirs.body.url).search;
    expect((await get(port, hostOf(owner.projectId), `/${grant}`)).status).toBe(404);
    expect((await api('DELETE', `/api/projects/${other.projectId}/preview`, { token: other.token })).body.status).toBe('stopped');
    expect((await get(port, hostOf(other.projectId), '/', cookie)).status).toBe(503);
  }, 120_000);

  test('WebSocket through the proxy: echo with the cookie, refused without', async () => {
    const started = await api('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    const { cookie } = await open(port, started.body.url);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, { headers: { host: hostOf(owner.projectId), cookie } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('ping'));
      ws.once('message', (m: Buffer) => resolve(m.toString()));
      ws.once('error', reject);
    });
    expect(reply).toBe('echo:ping');
    ws.terminate();
    const refused = new WebSocket(`ws://127.0.0.1:${port}/live`, { headers: { host: hostOf(owner.projectId) } });
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  }, 60_000);

  test('forwarding: hop-by-hop headers dropped both ways, X-Forwarded-* added, a streamed body and a chunked answer pass whole', async () => {
    const started = await api('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    const { cookie } = await open(port, started.body.url);
    const host = hostOf(owner.projectId);
    const seen = await request(port, host, '/headers', {
      headers: { cookie: `${cookie}; theirs=1`, connection: 'keep-alive, x-client-hop', 'x-client-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-authorization': 'Basic c2VjcmV0', 'x-end-to-end': 'kept' },
    });
    expect(seen.status).toBe(200);
    const headers = JSON.parse(seen.body) as Record<string, string>;
    expect(headers['x-end-to-end']).toBe('kept');
    expect(headers.cookie).toBe('theirs=1');
    for (const hop of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(headers[hop]).toBeUndefined();
    expect(headers.host).toBe(host);
    expect(headers['x-forwarded-host']).toBe(host);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-for']).toMatch(/127\.0\.0\.1$/);

    const hop = await get(port, host, '/hop', cookie);
    expect(hop.body).toBe('hop');
    expect(hop.headers['x-app-kept']).toBe('1');
    expect(hop.headers['x-app-hop']).toBeUndefined();
    // The preview server's own Keep-Alive (timeout=5) may be there; the app's (timeout=99) is not.
    expect(hop.headers['keep-alive'] ?? '').not.toContain('99');

    // An informational answer (103) before the final one: the final answer arrives whole.
    const early = await get(port, host, '/early', cookie);
    expect(early.status).toBe(200);
    expect(early.body).toBe('after hints');

    // 2 MiB sent chunked after a 100 Continue, streamed back chunked by the app.
    const body = Buffer.alloc(2 * 1024 * 1024, 'preview-body ');
    const echoed = await request(port, host, '/echo', { method: 'POST', headers: { cookie, expect: '100-continue', 'content-type': 'text/plain' }, body });
    expect(echoed.status).toBe(200);
    expect(echoed.headers['transfer-encoding']).toBe('chunked');
    expect(echoed.body.length).toBe(body.length);
    expect(echoed.body === body.toString()).toBe(true);
  }, 60_000);

  test('a browser that goes away ends the app\'s endless answer; an upstream that does not answer is a 503 (page and WebSocket)', async () => {
    const started = await api('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    const { cookie } = await open(port, started.body.url);
    const host = hostOf(owner.projectId);
    const output = async (): Promise<string> => (await api('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).body.output as string;
    const hanging = http.request({ host: '127.0.0.1', port, path: '/hang', headers: { host, cookie } });
    hanging.on('error', () => undefined);
    hanging.end();
    expect(await eventually(async () => (await output()).includes('hang: request in'), true, 20_000)).toBe(true);
    hanging.destroy();
    expect(await eventually(async () => (await output()).includes('hang: request closed'), true, 20_000)).toBe(true);

    // The row names an address where nothing listens (the container moved): 503, then the row is read again.
    const row = await server.ctx.db.query<{ upstream: string }>('SELECT upstream FROM previews WHERE project_id = $1', [owner.projectId]);
    await server.ctx.db.query('UPDATE previews SET upstream = $2 WHERE project_id = $1', [owner.projectId, `127.0.0.1:${await freePort()}`]);
    try {
      const gone = await eventually(async () => (await get(port, host, '/', cookie)).status, 503, 20_000);
      expect(gone).toBe(503);
      const page = await get(port, host, '/', cookie);
      expect(page.body).toContain('The preview did not answer');
      expect(page.headers['content-type']).toBe('text/plain; charset=utf-8');
      const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, { headers: { host, cookie } });
      const wsStatus = await new Promise<number>((resolve) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
      expect(wsStatus).toBe(503);
    } finally {
      await server.ctx.db.query('UPDATE previews SET upstream = $2 WHERE project_id = $1', [owner.projectId, row.rows[0]!.upstream]);
    }
    expect(await eventually(async () => (await get(port, host, '/', cookie)).status, 200, 20_000)).toBe(200);
  }, 90_000);

  test('a share link opens the preview without an account, then stops working when revoked', async () => {
    expect((await api('POST', `/api/projects/${owner.projectId}/preview/share`, { token: owner.token, body: { ttlMinutes: 0 } })).body.error.code).toBe('E_VALIDATION');
    const share = await api('POST', `/api/projects/${owner.projectId}/preview/share`, { token: owner.token, body: { ttlMinutes: 30 } });
    expect(share.status).toBe(201);
    const token = new URL(share.body.url).searchParams.get('samokoder_share')!;
    const stored = await server.ctx.db.query<{ j: string }>('SELECT to_jsonb(s)::text AS j FROM preview_shares s');
    expect(stored.rows.map((r) => r.j).join()).not.toContain(token);
    const { cookie } = await open(port, share.body.url);
    expect((await get(port, hostOf(owner.projectId), '/', cookie)).status).toBe(200);
    expect((await api('DELETE', `/api/projects/${owner.projectId}/preview/share/${share.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await get(port, hostOf(owner.projectId), '/', cookie)).status).toBe(404);
    const again = new URL(share.body.url);
    expect((await get(port, again.host, again.pathname + again.search)).status).toBe(404);
  }, 60_000);

  once('restarts on the new files after a finished run and after a revert', async () => {
    const started = await api('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    const { cookie } = await open(port, started.body.url);
    const v1 = (await server.ctx.workspaces.open(owner.projectId).then((w) => w.history.headSha()));
    await commitMessage(server, owner.projectId, 'hello v2');
    // A run (on any node) finishing is a run.finished event on the project's stream.
    await server.ctx.db.query(`UPDATE runs SET status = 'succeeded', finished_at = now() WHERE id = $1`, [owner.runId]);
    await appendEvent(server.ctx.db, { projectId: owner.projectId, runId: owner.runId, type: 'run.finished', data: { status: 'succeeded', reason: null } });
    const body = async (): Promise<string> => (await get(port, hostOf(owner.projectId), '/', cookie).catch(() => ({ body: '' }))).body;
    expect(await eventually(body, '<h1>hello v2</h1>', 60_000)).toBe('<h1>hello v2</h1>');
    expect((await api('POST', `/api/projects/${owner.projectId}/revert`, { token: owner.token, body: { to: v1 } })).status).toBe(201);
    expect(await eventually(body, '<h1>hello v1</h1>', 60_000)).toBe('<h1>hello v1</h1>');
    const events = await server.ctx.db.query<{ type: string; data: { reason?: string } }>(`SELECT type, data FROM events WHERE project_id = $1 AND type LIKE 'preview.%' ORDER BY seq`, [owner.projectId]);
    expect(events.rows.filter((e) => e.type === 'preview.starting' && e.data.reason === 'files_changed')).toHaveLength(2);
  }, 180_000);

  once('an idle preview is stopped by the sweep', async () => {
    await api('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    await server.ctx.db.query(`UPDATE previews SET last_access_at = now() - interval '1 hour' WHERE project_id = $1`, [owner.projectId]);
    const status = async (): Promise<string> => (await api('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).body.status;
    expect(await eventually(status, 'stopped', 30_000)).toBe('stopped');
    const stopped = await server.ctx.db.query<{ data: { reason: string } }>(`SELECT data FROM events WHERE project_id = $1 AND type = 'preview.stopped' ORDER BY seq DESC LIMIT 1`, [owner.projectId]);
    expect(stopped.rows[0]!.data.reason).toBe('idle');
  }, 60_000);

  once('samokoder preview prints the URL; --stop stops it', async () => {
    ensureCliBuilt();
    const env = { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: owner.token };
    const started = await runCli(['preview', owner.projectId], env);
    expect(started.code).toBe(0);
    const url = started.stdout.trim();
    expect(url.startsWith(`http://${hostOf(owner.projectId)}/?samokoder_grant=`)).toBe(true);
    const { cookie } = await open(port, url);
    expect((await get(port, hostOf(owner.projectId), '/', cookie)).status).toBe(200);
    const stopped = await runCli(['preview', owner.projectId, '--stop'], env);
    expect(stopped.code).toBe(0);
    // The app's last output follows, its secret named, not shown.
    expect(stopped.stdout).toMatch(/^preview stopped\nstarting with secret \[APP_SECRET\]/);
    expect(stopped.stdout).not.toContain(SECRET);
    expect((await runCli(['preview'], env)).code).toBe(2);
  }, 180_000);

  once("deleting a project removes its preview's container and network", async () => {
    const started = await api('POST', `/api/projects/${other.projectId}/preview`, { token: other.token });
    expect(started.body.status).toBe('running');
    const label = `label=samokoder.project=${other.projectId}`;
    // Its app either joined a spare network's holder (unlabelled: made before the project had it) or is alone on a network made for it.
    const { container_id: app } = (await server.ctx.db.query<{ container_id: string }>('SELECT container_id FROM previews WHERE project_id = $1', [other.projectId])).rows[0]!;
    const mode = (await run('docker', ['inspect', '-f', '{{.HostConfig.NetworkMode}}', app])).stdout.trim();
    const onNetwork = mode.startsWith('container:') ? mode.slice('container:'.length) : app;
    const network = (await run('docker', ['inspect', '-f', '{{range $n, $_ := .NetworkSettings.Networks}}{{$n}}{{end}}', onNetwork])).stdout.trim();
    expect(network).toMatch(/^samokoder-preview-/);
    expect((await api('DELETE', `/api/projects/${other.projectId}`, { token: other.token })).status).toBe(204);
    expect((await run('docker', ['ps', '-aq', '--filter', label])).stdout.trim()).toBe('');
    expect((await run('docker', ['ps', '-aq', '--filter', `id=${onNetwork}`])).stdout.trim()).toBe('');
    expect(await run('docker', ['network', 'inspect', network]).then(() => 'there', () => 'gone')).toBe('gone');
    expect((await run('docker', ['network', 'ls', '-q', '--filter', label])).stdout.trim()).toBe('');
  }, 120_000);

  once('the secret is in no event, export, commit or log line', async () => {
    const events = await server.ctx.db.query<{ j: string }>('SELECT data::text AS j FROM events');
    expect(events.rows.map((r) => r.j).join('\n')).not.toContain(SECRET);
    const zip = await fetch(`${server.url}/api/projects/${owner.projectId}/export?git=1`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(zip.status).toBe(200);
    const zipPath = path.join(server.dataDir, 'export.zip');
    await writeFile(zipPath, Buffer.from(await zip.arrayBuffer()));
    const unzipped = await run('unzip', ['-p', zipPath], { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' });
    expect(unzipped.stdout.length).toBeGreaterThan(0);
    expect(unzipped.stdout).not.toContain(SECRET);
    // Every file ever committed (the diff from the first commit to the last) and the files now.
    const ws = await server.ctx.workspaces.open(owner.projectId);
    const commits = await ws.history.history({ limit: 1000 });
    expect(JSON.stringify(await ws.history.diff(commits.at(-1)!.sha, commits[0]!.sha))).not.toContain(SECRET);
    const files = await ws.files.tree({ maxEntries: 1000 });
    for (const f of files.entries.filter((e) => e.type === 'file')) {
      const content = await ws.files.readFile(f.path);
      expect(content.binary ? '' : content.content).not.toContain(SECRET);
    }
    expect(server.logs.join('\n')).not.toContain(SECRET);
  });
});
