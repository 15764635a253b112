import http from 'node:http';
import { mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { apiClient, type TestServer } from '../helpers/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { createLogger } from '../../core/logger.js';
import { PgDatabase } from '../../db/pg-database.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { eventually } from '../helpers/eventually.js';
import { seedTenant, type Api, type Tenant } from '../api/fixtures.js';
import { seedApp, startPreviewServer } from './app-fixture.js';
import { get, open } from './preview-client.js';

const run = promisify(execFile);

/** This process's `haproxy` children (the data plane of the server this test started): pid and what /proc says of each. */
async function haproxyChildren(): Promise<{ pid: number; cmdline: string; environ: string; uid: number }[]> {
  const out = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const statText = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(statText);
    if (m?.[1] !== 'haproxy' || Number(m[2]) !== process.pid) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    out.push({
      pid: Number(pid),
      cmdline: (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' '),
      environ: await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''),
      uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]),
    });
  }
  return out;
}

/** The directory of HAProxy's runtime socket: the path /proc/net/unix gives the listening socket among its open files (the name it was bound to, before HAProxy renamed it into place). */
async function runtimeDirOf(pid: number): Promise<string> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  const line = (await readFile('/proc/net/unix', 'utf8')).split('\n').map((l) => l.trim().split(/\s+/)).find((f) => inodes.has(f[6] ?? '') && f[7]?.includes('/admin.sock'));
  if (!line) throw new Error(`no runtime socket among the open files of ${pid}`);
  return path.dirname(line[7]!);
}

describe('the HAProxy preview data plane: the fast path admits exactly what the Node preview server would', () => {
  let server: TestServer;
  let api: Api;
  let port: number;
  let owner: Tenant;
  let other: Tenant;
  let ownerCookie: string;
  let otherCookie: string;
  const namespace = `test-haproxy-${randomUUID().slice(0, 8)}`;
  const hostOf = (projectId: string): string => `${projectId}.localhost:${port}`;
  const fast = (): Promise<number> => server.preview.fastPathRequests();
  /** Starts the tenant's preview (when the idle sweep stopped it) and opens it: the session cookie. */
  const start = async (t: Tenant): Promise<string> => {
    const started = await api('POST', `/api/projects/${t.projectId}/preview`, { token: t.token });
    expect(started.body.status).toBe('running');
    return (await open(port, started.body.url)).cookie;
  };

  let orphan: string;

  beforeAll(async () => {
    // What a killed service leaves: a directory whose owner is gone.
    orphan = await mkdtemp(path.join(os.tmpdir(), 'samokoder-haproxy-'));
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    await writeFile(path.join(orphan, 'owner.pid'), String(gone.pid));
    ({ server, port } = await startPreviewServer(namespace, {
      SAMOKODER_PREVIEW_DATA_PLANE: 'haproxy',
      // The sweep runs every 2.5 s: a preview whose use the data plane did not report stops.
      SAMOKODER_PREVIEW_IDLE_SECONDS: 10,
    }));
    expect(server.preview.dataPlane).toBe('haproxy');
    api = apiClient(server.url);
    owner = await seedTenant(server, api);
    other = await seedTenant(server, api);
    await seedApp(server, owner.projectId, owner.runId, 'the owner app');
    await seedApp(server, other.projectId, other.runId, 'the other app');
    ownerCookie = await start(owner);
    otherCookie = await start(other);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    // HAProxy goes with the service.
    expect(await haproxyChildren()).toEqual([]);
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=samokoder.namespace=${namespace}`]);
    expect(stdout.trim()).toBe('');
  });

  test('a valid cookie takes the fast path; interleaved requests of two projects on shared keep-alive connections each reach their own app', async () => {
    // The preview reaches HAProxy's map within a sync: from then on its requests bypass Node.
    const before = await fast();
    expect(await eventually(async () => {
      await get(port, hostOf(owner.projectId), '/', ownerCookie);
      return (await fast()) > before;
    }, true, 10_000)).toBe(true);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const one = (t: Tenant, cookie: string): Promise<string> => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent, headers: { host: hostOf(t.projectId), cookie } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    const start = await fast();
    const bodies = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? one(owner, ownerCookie) : one(other, otherCookie))));
    agent.destroy();
    bodies.forEach((body, i) => expect(body).toBe(i % 2 ? '<h1>the owner app</h1>' : '<h1>the other app</h1>'));
    expect((await fast()) - start).toBe(200);
  }, 60_000);

  test('forged, unsigned, expired, misused and misplaced cookies never reach an app: 404', async () => {
    const secret = new TextEncoder().encode(server.ctx.previews.grants.sessionSecret);
    const session = (claims: Record<string, unknown>, expSeconds: number, aud = 'samokoder-preview-session') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('samokoder').setAudience(aud).setSubject(owner.userId).setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds).sign(secret);
    const token = ownerCookie.split('=')[1]!;
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const grant = new URL((await api('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).body.url).searchParams.get('samokoder_grant')!;
    const cases: [string, string][] = [
      ['forged signature', forged],
      ['alg none', unsigned],
      ['expired', await session({ pid: owner.projectId, k: 'owner' }, -5)],
      ['another audience', await session({ pid: owner.projectId, k: 'owner' }, 600, 'samokoder-preview-grant')],
      ['a grant as the cookie', grant],
      ['an unknown kind', await session({ pid: owner.projectId, k: 'admin' }, 600)],
    ];
    const before = await fast();
    for (const [what, value] of cases) {
      const r = await get(port, hostOf(owner.projectId), '/', `samokoder_preview=${value}`);
      expect([what, r.status]).toEqual([what, 404]);
    }
    // The owner's valid cookie on the other project's host.
    expect((await get(port, hostOf(other.projectId), '/', ownerCookie)).status).toBe(404);
    expect(await fast()).toBe(before);
  }, 60_000);

  test('a revoked share link stops on the fast path at once', async () => {
    await start(owner);
    const share = await api('POST', `/api/projects/${owner.projectId}/preview/share`, { token: owner.token, body: { ttlMinutes: 30 } });
    const { cookie } = await open(port, share.body.url);
    const before = await fast();
    expect(await eventually(async () => {
      expect((await get(port, hostOf(owner.projectId), '/', cookie)).status).toBe(200);
      return (await fast()) > before;
    }, true, 10_000)).toBe(true);
    expect((await api('DELETE', `/api/projects/${owner.projectId}/preview/share/${share.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await get(port, hostOf(owner.projectId), '/', cookie)).status).toBe(404);
  }, 60_000);

  test('a preview used only through the fast path is not stopped as idle', async () => {
    await start(owner);
    await server.ctx.db.query(`UPDATE previews SET last_access_at = now() - interval '1 hour' WHERE project_id = $1`, [owner.projectId]);
    const before = await fast();
    // Longer than the idle time, several sweeps: each would stop a preview nobody used.
    for (const until = Date.now() + 12_000; Date.now() < until; await new Promise((r) => setTimeout(r, 300))) {
      expect((await get(port, hostOf(owner.projectId), '/', ownerCookie)).status).toBe(200);
    }
    expect((await fast()) - before).toBeGreaterThan(20);
    expect((await api('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).body.status).toBe('running');
  }, 60_000);

  test('HAProxy runs unprivileged, its secret in no file, argument or environment, and is restarted when it dies', async () => {
    await start(owner);
    const [proc] = await haproxyChildren();
    expect(proc).toBeDefined();
    const secret = server.ctx.previews.grants.sessionSecret;
    expect(proc!.cmdline).toMatch(/-f \S+\/config\.fifo/);
    expect(proc!.cmdline).not.toContain(secret);
    expect(proc!.environ).not.toContain(secret);
    if (process.getuid?.() === 0) expect(proc!.uid).toBe(65534);
    // Its directory (maps, Lua script, runtime socket) is private and holds no secret.
    const dir = await runtimeDirOf(proc!.pid);
    expect((await stat(dir)).mode & 0o077).toBe(0);
    for (const name of await readdir(dir)) {
      if (name.endsWith('.sock')) continue;
      expect([name, (await readFile(path.join(dir, name), 'utf8')).includes(secret)]).toEqual([name, false]);
    }

    process.kill(proc!.pid, 'SIGKILL');
    // A new HAProxy, its maps filled again: the preview is back on the fast path.
    expect(await eventually(async () => {
      const r = await get(port, hostOf(owner.projectId), '/', ownerCookie).catch(() => undefined);
      return r?.status === 200 && (await fast().catch(() => 0)) > 0;
    }, true, 20_000)).toBe(true);
    const [again] = await haproxyChildren();
    expect(again!.pid).not.toBe(proc!.pid);
    // The directory a dead service left was removed when this one started.
    await expect(stat(orphan)).rejects.toThrow(/ENOENT/);
  }, 60_000);
});

describe('the HAProxy preview data plane across nodes: any node serves a preview another node runs', () => {
  const namespace = `test-haproxy-nodes-${randomUUID().slice(0, 8)}`;
  let t: TestDatabase;
  let dataDir: string;
  const nodes: RunningServer[] = [];
  const ownDb: PgDatabase[] = [];

  beforeAll(async () => {
    t = await createTestDatabase('postgres', { migrate: false });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-test-'));
    for (let i = 0; i < 2; i++) {
      // Node B with a pool of its own, as another process would have.
      const own = i > 0 ? new PgDatabase({ connectionString: t.url! }) : undefined;
      if (own) ownDb.push(own);
      const db = own ?? t.db;
      nodes.push(await startServer({
        env: {},
        overrides: {
          PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_AUTH_RATE_LIMIT: 1000, SAMOKODER_WORKSPACE_QUOTA: 'reactive', SAMOKODER_RUN_WORKER: false,
          SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest', SAMOKODER_SANDBOX_NAMESPACE: namespace, SAMOKODER_PREVIEW_DATA_PLANE: 'haproxy',
        },
        db,
        logger: createLogger({ level: 'silent' }),
      }));
    }
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes.reverse()) await n.stop();
    for (const db of ownDb) await db.close();
    await t?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=samokoder.namespace=${namespace}`]);
    expect(stdout.trim()).toBe('');
  });

  test('started on node A, opened on node B: B routes it on its fast path; stopped on A, B stops routing it', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer];
    const apiA = apiClient(a.url);
    const apiB = apiClient(b.url);
    const owner = await seedTenant({ ...a, logs: [], dataDir, close: () => Promise.resolve() }, apiA);
    await seedApp({ ...a, logs: [], dataDir, close: () => Promise.resolve() }, owner.projectId, owner.runId, 'served by any node');
    expect((await apiA('POST', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).body.status).toBe('running');

    const viaB = await apiB('GET', `/api/projects/${owner.projectId}/preview`, { token: owner.token });
    const { host, cookie } = await open(b.preview.port, viaB.body.url);
    expect(host).toBe(`${owner.projectId}.localhost:${b.preview.port}`);
    expect(await eventually(async () => {
      expect((await get(b.preview.port, host, '/', cookie)).body).toBe('<h1>served by any node</h1>');
      return (await b.preview.fastPathRequests()) > 0;
    }, true, 10_000)).toBe(true);

    expect((await apiA('DELETE', `/api/projects/${owner.projectId}/preview`, { token: owner.token })).status).toBe(200);
    expect(await eventually(async () => (await get(b.preview.port, host, '/', cookie)).status, 503, 10_000)).toBe(503);
  }, 120_000);
});
