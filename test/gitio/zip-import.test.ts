import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, type Api } from '../api/fixtures.js';
import { buildZip, type ZipEntrySpec } from './zip-builder.js';

describe('import a ZIP upload: hostile archives refused with nothing left behind', () => {
  let server: TestServer;
  let api: Api;
  let token: string;
  let userId: string;
  let tmp: string;

  beforeAll(async () => {
    // Uploads are received into the temporary directory: the suite can tell that none is left.
    tmp = await mkdtemp(path.join(os.tmpdir(), 'samokoder-zip-test-'));
    process.env.TMPDIR = tmp;
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_GENERATE_RATE_LIMIT_USER: 10_000, SAMOKODER_GENERATE_RATE_LIMIT_IP: 10_000, SAMOKODER_IMPORT_MAX_MB: 2, SAMOKODER_IMPORT_MAX_FILES: 50 });
    api = apiClient(server.url);
    ({ token, userId } = await registerUser(api));
    await server.ctx.db.query("UPDATE users SET plan_id = 'unlimited' WHERE id = $1", [userId]);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  async function upload(zip: Buffer, fileName = 'app.zip', fields: Record<string, string> = {}): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([zip], { type: 'application/zip' }), fileName);
    const res = await fetch(`${server.url}/api/projects/import`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    return { status: res.status, body: await res.json() };
  }

  const projectCount = async () => Number((await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM projects WHERE user_id = $1', [userId])).rows[0]!.n);

  test('a good ZIP: one "Imported" commit; the single top folder unwrapped; .git/ and node_modules/ left out; modes kept', async () => {
    const zip = buildZip([
      { name: 'app-main/' },
      { name: 'app-main/README.md', data: '# app\n' },
      { name: 'app-main/src/index.js', data: 'console.log(1)\n' },
      { name: 'app-main/run.sh', data: '#!/bin/sh\n', mode: 0o100755 },
      { name: 'app-main/.git/config', data: '[core]\n\thooksPath = /tmp\n' },
      { name: 'app-main/node_modules/dep/index.js', data: 'x' },
      { name: 'app-main/.gitignore', data: 'dist/\n' },
      { name: 'app-main/dist/bundle.js', data: 'kept: the import commits what it brought' },
    ]);
    const res = await upload(zip, 'app-main.zip', { name: 'Uploaded' });
    expect(res.status).toBe(201);
    expect(res.body.project).toMatchObject({ name: 'Uploaded', importedFrom: 'zip:app-main.zip' });
    expect(res.body.import).toMatchObject({ files: 5, skipped: ['app-main/.git/', 'app-main/node_modules/'] });
    const id = res.body.project.id;
    const commits = (await api('GET', `/api/projects/${id}/history`, { token })).body.commits;
    expect(commits.map((c: { subject: string }) => c.subject)).toEqual(['Imported from app-main.zip']);
    const ws = await server.ctx.workspaces.open(id);
    expect((await readdir(ws.dir)).sort()).toEqual(['.gitignore', 'README.md', 'dist', 'run.sh', 'src']);
    expect((await stat(path.join(ws.dir, 'run.sh'))).mode & 0o777).toBe(0o755);
    const tree = await api('GET', `/api/projects/${id}/files`, { token });
    expect(tree.body.entries.map((e: { path: string }) => e.path)).toContain('dist/bundle.js');
    expect(await readFile(path.join(ws.dir, 'src/index.js'), 'utf8')).toBe('console.log(1)\n');
  });

  const hostile: Array<[string, ZipEntrySpec[], number, string]> = [
    ['a ".." entry', [{ name: 'ok.txt', data: 'x' }, { name: '../evil.txt', data: 'x' }], 400, 'E_IMPORT_UNSAFE'],
    ['a nested ".." entry', [{ name: 'a/../../evil.txt', data: 'x' }], 400, 'E_IMPORT_UNSAFE'],
    ['an absolute path', [{ name: '/tmp/evil.txt', data: 'x' }], 400, 'E_IMPORT_UNSAFE'],
    ['a drive path', [{ name: 'C:/evil.txt', data: 'x' }], 400, 'E_IMPORT_UNSAFE'],
    ['a backslash path', [{ name: '..\\evil.txt', data: 'x' }], 400, 'E_IMPORT_UNSAFE'],
    ['a symlink', [{ name: 'ok.txt', data: 'x' }, { name: 'passwd', data: '/etc/passwd', mode: 0o120777 }], 400, 'E_IMPORT_UNSAFE'],
    ['a character device', [{ name: 'tty', data: '', mode: 0o020644 }], 400, 'E_IMPORT_UNSAFE'],
    ['a FIFO', [{ name: 'fifo', data: '', mode: 0o010644 }], 400, 'E_IMPORT_UNSAFE'],
    ['an encrypted entry', [{ name: 'secret.txt', data: 'x', encrypted: true }], 400, 'E_IMPORT_UNSAFE'],
    ['a zip bomb (ratio)', [{ name: 'zeros.bin', data: Buffer.alloc(1_800_000) }], 400, 'E_IMPORT_UNSAFE'],
    ['an entry lying about its size', [{ name: 'ok.txt', data: 'x' }, { name: 'liar.bin', data: Buffer.alloc(500_000, 7), claimedSize: 10 }], 400, 'E_IMPORT_UNSAFE'],
    ['a duplicate entry', [{ name: 'a.txt', data: 'one' }, { name: 'a.txt', data: 'two' }], 400, 'E_IMPORT_UNSAFE'],
    ['too many files', Array.from({ length: 51 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })), 413, 'E_IMPORT_TOO_LARGE'],
    ['too much unpacked', Array.from({ length: 30 }, (_, i) => ({ name: `z${i}.bin`, data: Buffer.alloc(100_000) })), 413, 'E_IMPORT_TOO_LARGE'],
    ['not a ZIP at all', [], 400, 'E_IMPORT_UNSAFE'],
  ];

  test.each(hostile)('%s is refused with nothing left on disk or in the database', async (_what, entries, status, code) => {
    const before = { projects: await projectCount(), workspaces: await readdir(server.ctx.config.workspaces.dir) };
    const zip = entries.length ? buildZip(entries) : Buffer.from('PK\u0003\u0004 this is not really a zip');
    const res = await upload(zip);
    expect([res.status, res.body.error?.code]).toEqual([status, code]);
    expect(res.body.error.message).toContain('Nothing was kept');
    expect(await projectCount()).toBe(before.projects);
    expect(await readdir(server.ctx.config.workspaces.dir)).toEqual(before.workspaces);
    expect(existsSync(path.join(tmp, 'evil.txt')) || existsSync('/tmp/evil.txt')).toBe(false);
    expect((await readdir(tmp)).filter((n) => n.startsWith('samokoder-upload-'))).toEqual([]);
  });

  test('an upload over the size limit is cut off and refused', async () => {
    const res = await upload(buildZip([{ name: 'random.bin', data: randomBytes(3 * 1024 * 1024), store: true }]));
    expect([res.status, res.body.error.code]).toEqual([413, 'E_IMPORT_TOO_LARGE']);
    expect((await readdir(tmp)).filter((n) => n.startsWith('samokoder-upload-'))).toEqual([]);
  });

  test('a multipart body without the file field, or with junk, is a 4xx', async () => {
    const form = new FormData();
    form.append('name', 'x');
    const res = await fetch(`${server.url}/api/projects/import`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_VALIDATION');
    const junk = await fetch(`${server.url}/api/projects/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=zzz' }, body: '--zzz\r\nnot a part' });
    expect(junk.status).toBeGreaterThanOrEqual(400);
    expect(junk.status).toBeLessThan(500);
  });
});

describe('imports and pushes are rate limited per account', () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.close();
  });

  test('past the limit: 429 E_RATE_LIMITED with Retry-After, nothing imported', async () => {
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_GENERATE_RATE_LIMIT_USER: 2 });
    const api = apiClient(server.url);
    const { token, userId } = await registerUser(api);
    await server.ctx.db.query("UPDATE users SET plan_id = 'unlimited' WHERE id = $1", [userId]);
    const zip = buildZip([{ name: 'a.txt', data: 'a' }]);
    const send = async () => {
      const form = new FormData();
      form.append('file', new Blob([zip]), 'a.zip');
      return fetch(`${server.url}/api/projects/import`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    };
    expect((await send()).status).toBe(201);
    expect((await send()).status).toBe(201);
    const third = await send();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('E_RATE_LIMITED');
    const n = await server.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM projects WHERE user_id = $1', [userId]);
    expect(n.rows[0]!.n).toBe(2);
  }, 60_000);
});
