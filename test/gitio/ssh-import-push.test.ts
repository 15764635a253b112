import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { NO_WORKER, type Api } from '../api/fixtures.js';
import { repoRoot, type RepoRoot } from './git-servers.js';
import { startSshd, type Sshd } from './sshd.js';

/** The body of an OpenSSH private key: what must never show anywhere. */
const keyBody = (privateKey: string) =>
  privateKey
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');

describe('import and push over ssh, against a real sshd on loopback', () => {
  let server: TestServer;
  let api: Api;
  let sshd: Sshd;
  let repos: RepoRoot;
  let user: { token: string; userId: string };
  let credentialId: string;
  let wrongCredentialId: string;
  let wrongKey: string;
  let tmp: string;

  const url = (name: string) => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${repos.dir}/${name}.git`;
  /** sshd's log lines from `from` on that show a client got past the host key (it asked to log in). */
  const loginAttemptsSince = (from: number) => sshd.log.slice(from).filter((l) => l.includes('userauth-request'));

  beforeAll(async () => {
    sshd = await startSshd({ scpPort22: true });
    // The import's temporary directories (and the key file in them) land here: the suite can tell none is left.
    tmp = await mkdtemp(path.join(os.tmpdir(), 'samokoder-ssh-test-'));
    process.env.TMPDIR = tmp;
    repos = await repoRoot();
    await repos.create('app', { 'README.md': '# app over ssh\n', 'src/main.js': 'export const x = 1;\n' });
    server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_GENERATE_RATE_LIMIT_USER: 10_000, SAMOKODER_GENERATE_RATE_LIMIT_IP: 10_000 });
    api = apiClient(server.url);
    user = await registerUser(api);
    await server.ctx.db.query("UPDATE users SET plan_id = 'unlimited' WHERE id = $1", [user.userId]);
    const cred = await api('POST', '/api/user/git-credentials', { token: user.token, body: { kind: 'ssh-key', secret: sshd.client.privateKey, label: 'sshd fixture' } });
    expect(cred.status).toBe(201);
    credentialId = cred.body.id;
    wrongKey = (await sshd.keyPair('stranger')).privateKey;
    const wrong = await api('POST', '/api/user/git-credentials', { token: user.token, body: { kind: 'ssh-key', secret: wrongKey, label: 'not authorized' } });
    expect(wrong.status).toBe(201);
    wrongCredentialId = wrong.body.id;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await sshd?.stop();
    await repos?.cleanup();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function importOverSsh(body: Record<string, unknown>) {
    return api('POST', '/api/projects/import', { token: user.token, body: { credentialId, hostKey: sshd.hostFingerprint, ...body } });
  }

  test('ssh://user@127.0.0.1:PORT/path with the key and the host fingerprint pinned: imported', async () => {
    const res = await importOverSsh({ gitUrl: url('app') });
    expect(res.status).toBe(201);
    expect(res.body.project).toMatchObject({ name: 'app', importedFrom: url('app') });
    expect(res.body.import.files).toBe(2);
    const ws = await server.ctx.workspaces.open(res.body.project.id);
    expect(await readFile(path.join(ws.dir, 'src/main.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(sshd.log.some((l) => /Accepted publickey for root from 127\.0\.0\.1/.test(l))).toBe(true);
  });

  test('the host key pinned as the line ssh-keyscan prints works too', async () => {
    const res = await importOverSsh({ gitUrl: url('app'), hostKey: `[127.0.0.1]:${sshd.port} ${sshd.hostKey}` });
    expect(res.status).toBe(201);
  });

  test('scp-like user@host:path (port 22 only: the form has no port) imports too', async () => {
    // The fixture also listens on port 22 of a random 127.x.y.z; if that failed, this fails here, not silently.
    expect(sshd.scpHost).toMatch(/^127\.\d+\.\d+\.\d+$/);
    const gitUrl = `${sshd.user}@${sshd.scpHost}:${repos.dir}/app.git`;
    const res = await importOverSsh({ gitUrl });
    expect(res.status).toBe(201);
    expect(res.body.project.importedFrom).toBe(gitUrl);
  });

  test('no hostKey for a host whose key is not published: refused before logging in, naming the fingerprint to check', async () => {
    // A user who never pinned this host (the suite's user has: its keys are remembered, see below).
    const stranger = await registerUser(api);
    const cred = await api('POST', '/api/user/git-credentials', { token: stranger.token, body: { kind: 'ssh-key', secret: sshd.client.privateKey } });
    const from = sshd.log.length;
    const res = await api('POST', '/api/projects/import', { token: stranger.token, body: { gitUrl: url('app'), credentialId: cred.body.id } });
    expect([res.status, res.body.error.code]).toEqual([400, 'E_GIT_HOST_KEY']);
    expect(res.body.error.message).toContain(sshd.hostFingerprint);
    expect(res.body.error.message).toContain('hostKey');
    expect(res.body.error.details).toEqual({ host: '127.0.0.1', port: sshd.port, shown: expect.arrayContaining([{ type: 'ssh-ed25519', fingerprint: sshd.hostFingerprint }]) });
    expect(loginAttemptsSince(from)).toEqual([]);
  });

  test('a host pinned on a successful import is remembered: later imports and pushes need no hostKey; forgotten, it needs one again', async () => {
    const listed = await api('GET', '/api/user/git-known-hosts', { token: user.token });
    expect(listed.status).toBe(200);
    const entry = listed.body.knownHosts.find((h: { host: string; port: number }) => h.host === '127.0.0.1' && h.port === sshd.port);
    expect(entry.keys).toEqual([{ type: 'ssh-ed25519', fingerprint: sshd.hostFingerprint }]);
    // The scp-like import pinned 127.x.y.z port 22: a host of its own.
    expect(listed.body.knownHosts.some((h: { host: string; port: number }) => h.host === sshd.scpHost && h.port === 22)).toBe(true);

    const again = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: url('app'), credentialId } });
    expect(again.status).toBe(201);
    await repos.createEmpty('remembered');
    const pushed = await api('POST', `/api/projects/${again.body.project.id}/push`, { token: user.token, body: { remoteUrl: url('remembered'), branch: 'main', credentialId } });
    expect(pushed.status).toBe(200);

    // Another user's remembered hosts are not this one's (covered above: the stranger was refused).
    const forgot = await api('DELETE', `/api/user/git-known-hosts/${entry.id}`, { token: user.token });
    expect(forgot.status).toBe(204);
    expect((await api('DELETE', `/api/user/git-known-hosts/${entry.id}`, { token: user.token })).status).toBe(404);
    const refused = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: url('app'), credentialId } });
    expect([refused.status, refused.body.error.code]).toEqual([400, 'E_GIT_HOST_KEY']);
    // Pinned again on a successful import: remembered again.
    expect((await importOverSsh({ gitUrl: url('app') })).status).toBe(201);
  });

  test('a wrong key: 400 E_GIT_AUTH, no key material and nothing kept', async () => {
    const before = await server.ctx.db.query('SELECT count(*)::int AS n FROM projects');
    const res = await importOverSsh({ gitUrl: url('app'), credentialId: wrongCredentialId });
    expect([res.status, res.body.error.code]).toEqual([400, 'E_GIT_AUTH']);
    expect(res.body.error.message).toContain('Permission denied');
    expect(res.text).not.toContain(keyBody(wrongKey).slice(0, 40));
    expect(res.text).not.toContain(tmp);
    expect((await server.ctx.db.query('SELECT count(*)::int AS n FROM projects')).rows).toEqual(before.rows);
    const none = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: url('app'), hostKey: sshd.hostFingerprint } });
    expect([none.status, none.body.error.code]).toEqual([400, 'E_GIT_AUTH']);
  });

  test('hostKey is refused for other transports and when it is not a key', async () => {
    const https = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: 'https://127.0.0.1/r.git', hostKey: sshd.hostFingerprint } });
    expect([https.status, https.body.error.code]).toEqual([400, 'E_VALIDATION']);
    const junk = await importOverSsh({ gitUrl: url('app'), hostKey: 'trust me' });
    expect([junk.status, junk.body.error.code]).toEqual([400, 'E_VALIDATION']);
    expect(junk.body.error.message).toContain('hostKey');
  });

  test('push over ssh: fast-forward, a non-fast-forward refused without force, accepted with force', async () => {
    const imported = await importOverSsh({ gitUrl: url('app') });
    const id = imported.body.project.id;
    await repos.createEmpty('pushed-ssh');
    const remoteUrl = url('pushed-ssh');
    const push = (extra: Record<string, unknown> = {}) => api('POST', `/api/projects/${id}/push`, { token: user.token, body: { remoteUrl, branch: 'main', credentialId, hostKey: sshd.hostKey, ...extra } });

    const first = await push();
    expect(first.status).toBe(200);
    const head = first.body.push.sha;
    expect(first.body.push).toEqual({ remote: remoteUrl, branch: 'main', sha: head, forced: false });
    expect(await repos.head('pushed-ssh', 'main')).toBe(head);

    const theirs = await repos.commitDirectly('pushed-ssh', 'main', 'theirs.txt', 'someone else\n');
    const rejected = await push();
    expect([rejected.status, rejected.body.error.code]).toEqual([409, 'E_PUSH_REJECTED']);
    expect(await repos.head('pushed-ssh', 'main')).toBe(theirs);

    const forced = await push({ force: true });
    expect(forced.status).toBe(200);
    expect(forced.body.push.forced).toBe(true);
    expect(await repos.head('pushed-ssh', 'main')).toBe(head);

    const denied = await push({ branch: 'other', credentialId: wrongCredentialId });
    expect([denied.status, denied.body.error.code]).toEqual([400, 'E_GIT_AUTH']);
    expect(await repos.head('pushed-ssh', 'other')).toBeUndefined();
  });

  test('a changed host key (same address and port) is refused before any key is offered, pinned by line or by fingerprint', async () => {
    const oldKey = sshd.hostKey;
    const oldFingerprint = sshd.hostFingerprint;
    await sshd.rotateHostKey();
    expect(sshd.hostFingerprint).not.toBe(oldFingerprint);
    await repos.createEmpty('after-rotation');
    const projectId = (await server.ctx.db.query<{ id: string }>('SELECT id FROM projects WHERE user_id = $1 LIMIT 1', [user.userId])).rows[0]!.id;
    const from = sshd.log.length;

    const byLine = await importOverSsh({ gitUrl: url('app'), hostKey: oldKey });
    expect([byLine.status, byLine.body.error.code]).toEqual([400, 'E_GIT_HOST_KEY']);
    const byFingerprint = await importOverSsh({ gitUrl: url('app'), hostKey: oldFingerprint });
    expect([byFingerprint.status, byFingerprint.body.error.code]).toEqual([400, 'E_GIT_HOST_KEY']);
    expect(byFingerprint.body.error.message).toContain(sshd.hostFingerprint);
    const push = await api('POST', `/api/projects/${projectId}/push`, { token: user.token, body: { remoteUrl: url('after-rotation'), branch: 'main', credentialId, hostKey: oldKey } });
    expect([push.status, push.body.error.code]).toEqual([400, 'E_GIT_HOST_KEY']);
    expect(await repos.head('after-rotation', 'main')).toBeUndefined();
    expect(loginAttemptsSince(from)).toEqual([]);

    // The key remembered from earlier imports is the old one: without a pin, refused as well.
    const remembered = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: url('app'), credentialId } });
    expect([remembered.status, remembered.body.error.code]).toEqual([400, 'E_GIT_HOST_KEY']);
    expect(remembered.body.error.message).toContain('remembered');
    expect(loginAttemptsSince(from)).toEqual([]);

    // Pinned to the new key (checked out of band), it works again, and the new key is the remembered one.
    const again = await importOverSsh({ gitUrl: url('app') });
    expect(again.status).toBe(201);
    const unpinned = await api('POST', '/api/projects/import', { token: user.token, body: { gitUrl: url('app'), credentialId } });
    expect(unpinned.status).toBe(201);
  });

  test('the private key is nowhere: not in logs, responses, workspaces or database plaintext; no temporary file left', async () => {
    const body = keyBody(sshd.client.privateKey);
    expect(body.length).toBeGreaterThan(100);
    const needles = [body.slice(0, 60), body.slice(-60), keyBody(wrongKey).slice(0, 60)];
    const logs = server.logs.join('\n');
    for (const n of needles) expect(logs).not.toContain(n);
    const tables = await server.ctx.db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    for (const { table_name } of tables.rows) {
      const rows = await server.ctx.db.query<{ j: string }>(`SELECT to_jsonb(x)::text AS j FROM "${table_name}" x`);
      const text = rows.rows.map((r) => r.j).join('\n');
      expect([table_name, needles.some((n) => text.includes(n))]).toEqual([table_name, false]);
    }
    const list = await api('GET', '/api/user/git-credentials', { token: user.token });
    for (const n of needles) expect(list.text).not.toContain(n);
    // Every session's directory (key file, known_hosts) is gone; only the fixture's repositories remain.
    expect((await readdir(tmp)).filter((n) => !n.startsWith('samokoder-git-fixture-'))).toEqual([]);
  });
});
