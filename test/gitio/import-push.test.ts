import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, type Api } from '../api/fixtures.js';
import { repoRoot, startGitDaemon, startSmartHttp, type GitDaemon, type RepoRoot, type SmartHttp } from './git-servers.js';

const TOKEN = 'ghp_s3cretT0kenNeverLogged0123456789';
const HTTP_USER = 'alice';

/** Every file under `dir` (symlinks not followed) whose content contains `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...(await filesContaining(p, needle)));
    else if (e.isFile() && (await readFile(p)).includes(needle)) found.push(p);
  }
  return found;
}

describe('import a repository and push it, against git daemon and smart HTTP on loopback', () => {
  let server: TestServer;
  let api: Api;
  let repos: RepoRoot;
  let daemon: GitDaemon;
  let smart: SmartHttp;
  let user: { token: string; userId: string };
  let credentialId: string;
  let tmp: string;
  const trap = path.join(os.tmpdir(), `samokoder-submodule-trap-${process.pid}`);

  beforeAll(async () => {
    // The import's temporary directories land here: the suite can tell that none is left behind.
    tmp = await mkdtemp(path.join(os.tmpdir(), 'samokoder-gitio-test-'));
    process.env.TMPDIR = tmp;
    repos = await repoRoot();
    await repos.create('app', { 'README.md': '# app\n', 'src/index.js': 'console.log(1)\n', 'run.sh': '#!/bin/sh\necho hi\n', 'passwd-link': null }, { executable: ['run.sh'], submodule: `ext::sh -c touch% ${trap}` });
    await repos.create('big', { 'data.bin': 'x'.repeat(3 * 1024 * 1024) });
    daemon = await startGitDaemon(repos.dir);
    smart = await startSmartHttp(repos.dir, HTTP_USER, TOKEN);
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_GENERATE_RATE_LIMIT_USER: 10_000, SAMOKODER_GENERATE_RATE_LIMIT_IP: 10_000, SAMOKODER_IMPORT_MAX_MB: 2 });
    api = apiClient(server.url);
    user = await registerUser(api);
    await server.ctx.db.query("UPDATE users SET plan_id = 'unlimited' WHERE id = $1", [user.userId]);
    const cred = await api('POST', '/api/user/git-credentials', { token: user.token, body: { kind: 'token', secret: TOKEN, username: HTTP_USER, label: 'fixture' } });
    expect(cred.status).toBe(201);
    credentialId = cred.body.id;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await daemon?.stop();
    await smart?.stop();
    await repos?.cleanup();
    await rm(tmp, { recursive: true, force: true });
    await rm(trap, { force: true });
  });

  async function history(projectId: string): Promise<Array<{ sha: string; subject: string }>> {
    const res = await api('GET', `/api/projects/${projectId}/history`, { token: user.token });
    expect(res.status).toBe(200);
    return res.body.commits;
  }

  test('the credential is stored masked; the list never shows it', async () => {
    const list = await api('GET', '/api/user/git-credentials', { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.credentials).toEqual([expect.objectContaining({ id: credentialId, kind: 'token', username: HTTP_USER, masked: 'ghp_…6789' })]);
    expect(list.text).not.toContain(TOKEN);
  });

  test('over git daemon: one "Imported" commit with the regular files; symlink and submodule left out, nothing of theirs run', async () => {
    const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}app.git` } });
    expect(res.status).toBe(201);
    expect(res.body.project).toMatchObject({ name: 'app', importedFrom: `${daemon.url}app.git` });
    expect(res.body.import).toMatchObject({ files: 4 });
    expect(res.body.import.skipped).toEqual(expect.arrayContaining(['passwd-link (a symlink)', 'evil (a submodule)']));
    const commits = await history(res.body.project.id);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.subject).toMatch(/^Imported from git:\/\/127\.0\.0\.1:\d+\/app\.git at [0-9a-f]{40}$/);
    const ws = await server.ctx.workspaces.open(res.body.project.id);
    expect(await readFile(path.join(ws.dir, 'src/index.js'), 'utf8')).toBe('console.log(1)\n');
    expect((await stat(path.join(ws.dir, 'run.sh'))).mode & 0o111).not.toBe(0);
    expect(existsSync(path.join(ws.dir, 'passwd-link'))).toBe(false);
    expect(existsSync(trap)).toBe(false);
  });

  test('over smart HTTP with basic auth: imported with the credential, refused without it and nothing kept', async () => {
    const before = await server.ctx.db.query('SELECT count(*)::int AS n FROM projects');
    const denied = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${smart.url}app.git` } });
    expect([denied.status, denied.body.error.code]).toEqual([400, 'E_GIT_AUTH']);
    expect((await server.ctx.db.query('SELECT count(*)::int AS n FROM projects')).rows).toEqual(before.rows);

    const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${smart.url}app.git`, credentialId, name: 'From HTTP' } });
    expect(res.status).toBe(201);
    expect(res.body.project.name).toBe('From HTTP');
    expect(await history(res.body.project.id)).toHaveLength(1);
    // The server saw the credential only in Authorization headers.
    expect(smart.requests.some((r) => r.authorization === `Basic ${Buffer.from(`${HTTP_USER}:${TOKEN}`).toString('base64')}`)).toBe(true);
    expect(smart.requests.every((r) => !r.url.includes(TOKEN))).toBe(true);
  });

  test('a generate on an imported project is a change request: it needs a prompt', async () => {
    const imported = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}app.git` } });
    const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: 'sk-testimportkey1234' } });
    const id = imported.body.project.id;
    const without = await api('POST', `/api/projects/${id}/generate`, { token: user.token, body: { provider: 'openai', model: 'gpt-4o-mini', keyId: key.body.id } });
    expect(without.status).toBe(400);
    expect(without.body.error.message).toContain('imported');
    const change = await api('POST', `/api/projects/${id}/generate`, { token: user.token, body: { provider: 'openai', model: 'gpt-4o-mini', keyId: key.body.id, prompt: 'add a test' } });
    expect(change.status).toBe(202);
    expect(change.body.run.kind).toBe('change');
    await api('POST', `/api/projects/${id}/runs/${change.body.run.id}/cancel`, { token: user.token });
  });

  test('a repository over the size cap is refused with nothing kept', async () => {
    const before = await readdir(server.ctx.config.workspaces.dir);
    const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}big.git` } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('E_IMPORT_TOO_LARGE');
    expect(await readdir(server.ctx.config.workspaces.dir)).toEqual(before);
  });

  test('an empty repository is a clear E_GIT_REMOTE with nothing kept', async () => {
    await repos.createEmpty('empty');
    const before = await readdir(server.ctx.config.workspaces.dir);
    const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}empty.git` } });
    expect([res.status, res.body.error.code]).toEqual([502, 'E_GIT_REMOTE']);
    expect(res.body.error.message).toContain('has no commits');
    expect(await readdir(server.ctx.config.workspaces.dir)).toEqual(before);
  });

  test('a missing ref or repository is a clear E_GIT_REMOTE', async () => {
    const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}app.git`, ref: 'no-such-branch' } });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'E_GIT_REMOTE' });
    expect(res.body.error.message).toContain('no-such-branch');
  });

  test('push over smart HTTP, a non-fast-forward refused without force, then forced', async () => {
    const imported = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}app.git` } });
    const id = imported.body.project.id;
    await repos.createEmpty('pushed-http');
    const remoteUrl = `${smart.url}pushed-http.git`;
    const pushed = await api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl, branch: 'main', credentialId } });
    expect(pushed.status).toBe(200);
    const head = (await history(id))[0]!.sha;
    expect(pushed.body.push).toEqual({ remote: remoteUrl, branch: 'main', sha: head, forced: false });
    expect(await repos.head('pushed-http', 'main')).toBe(head);

    const theirs = await repos.commitDirectly('pushed-http', 'main', 'theirs.txt', 'someone else\n');
    const rejected = await api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl, branch: 'main', credentialId } });
    expect(rejected.status).toBe(409);
    expect(rejected.body.error.code).toBe('E_PUSH_REJECTED');
    expect(await repos.head('pushed-http', 'main')).toBe(theirs);

    const forced = await api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl, branch: 'main', credentialId, force: true } });
    expect(forced.status).toBe(200);
    expect(forced.body.push.forced).toBe(true);
    expect(await repos.head('pushed-http', 'main')).toBe(head);

    const noCredential = await api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl, branch: 'other' } });
    expect([noCredential.status, noCredential.body.error.code]).toEqual([400, 'E_GIT_AUTH']);
    const wrong = await api('POST', '/api/user/git-credentials', { token: user.token, body: { kind: 'token', secret: 'ghp_wrongTokenForTheFixture0000', username: HTTP_USER } });
    const wrongToken = await api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl, branch: 'other', credentialId: wrong.body.id } });
    expect([wrongToken.status, wrongToken.body.error.code]).toEqual([400, 'E_GIT_AUTH']);
    expect(wrongToken.text).not.toContain('ghp_wrongTokenForTheFixture0000');
  });

  test('push over git daemon to a new branch', async () => {
    const imported = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}app.git` } });
    const id = imported.body.project.id;
    await repos.createEmpty('pushed-daemon');
    const res = await api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl: `${daemon.url}pushed-daemon.git`, branch: 'feature/import' } });
    expect(res.status).toBe(200);
    expect(await repos.head('pushed-daemon', 'feature/import')).toBe(res.body.push.sha);
  });

  test('the token is nowhere: not in logs, events, responses, workspaces, repository configs or database plaintext', async () => {
    expect(server.logs.join('\n')).not.toContain(TOKEN);
    const tables = await server.ctx.db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    for (const { table_name } of tables.rows) {
      const rows = await server.ctx.db.query<{ j: string }>(`SELECT to_jsonb(x)::text AS j FROM "${table_name}" x`);
      const text = rows.rows.map((r) => r.j).join('\n');
      expect([table_name, text.includes(TOKEN), text.includes(Buffer.from(TOKEN).toString('hex'))]).toEqual([table_name, false, false]);
    }
    expect(await filesContaining(server.ctx.config.workspaces.dir, TOKEN)).toEqual([]);
    // Nothing remembers the remote: no [remote] section, no credential helper, in any project's config.
    for (const name of await readdir(server.ctx.config.workspaces.dir)) {
      if (!name.endsWith('.git')) continue;
      const config = await readFile(path.join(server.ctx.config.workspaces.dir, name, 'config'), 'utf8');
      expect(config).not.toMatch(/\[remote|\[credential|127\.0\.0\.1/);
    }
  });

  test('hostile URLs are refused before anything is created', async () => {
    const before = await server.ctx.db.query('SELECT count(*)::int AS n FROM projects');
    const wsBefore = await readdir(server.ctx.config.workspaces.dir);
    const hostile = [
      'file:///etc',
      '/etc',
      './repo',
      `ext::sh -c touch% ${trap}`,
      `ext::sh%20-c%20touch%20${trap}`,
      'fd::3',
      '--upload-pack=touch /tmp/x',
      '-oProxyCommand=touch /tmp/x',
      'ssh://-oProxyCommand=touch/x',
      'http://169.254.169.254/latest/meta-data.git',
      'https://[fe80::1]/repo.git',
      'git://0.0.0.0/repo.git',
      'git://[::ffff:169.254.169.254]/repo.git',
      'https://100.100.100.200/repo.git',
      'https://alice:secret@example.com/repo.git',
      'ftp://example.com/repo.git',
      'C:\\repo',
      'https://example.com/repo.git\n--upload-pack=x',
      `ssh://git@host$(touch%20${trap})/r.git`,
      `git://h;touch%20${trap};/r.git`,
    ];
    const projectId = (await server.ctx.db.query<{ id: string }>('SELECT id FROM projects WHERE user_id = $1 LIMIT 1', [user.userId])).rows[0]!.id;
    for (const gitUrl of hostile) {
      const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl } });
      expect([gitUrl, res.status, res.body?.error?.code]).toEqual([gitUrl, 400, 'E_GIT_URL']);
      const push = await api('POST', `/api/projects/${projectId}/push`, { token: user.token, body: { remoteUrl: gitUrl, branch: 'main' } });
      expect([gitUrl, push.status, push.body?.error?.code]).toEqual([gitUrl, 400, 'E_GIT_URL']);
    }
    for (const ref of ['--upload-pack=x', '../x', 'a..b', '.hidden', 'x.lock']) {
      const res = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: `${daemon.url}app.git`, ref } });
      expect([ref, res.status, res.body?.error?.code]).toEqual([ref, 400, 'E_VALIDATION']);
    }
    expect((await server.ctx.db.query('SELECT count(*)::int AS n FROM projects')).rows).toEqual(before.rows);
    expect(await readdir(server.ctx.config.workspaces.dir)).toEqual(wsBefore);
    expect(existsSync(trap)).toBe(false);
  });

  test('no temporary directory is left behind', async () => {
    await mkdir(tmp, { recursive: true });
    const left = (await readdir(tmp)).filter((n) => n.startsWith('samokoder-git-') && !n.startsWith('samokoder-git-fixture-'));
    expect(left).toEqual([]);
  });
});
