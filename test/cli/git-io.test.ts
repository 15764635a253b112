// `samokoder git-credentials`, `import` (a git URL and a ZIP) and `push` against a running service and loopback git servers (and sshd).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { repoRoot, startGitDaemon, startSmartHttp, type GitDaemon, type RepoRoot, type SmartHttp } from '../gitio/git-servers.js';
import { startSshd, type Sshd } from '../gitio/sshd.js';
import { buildZip } from '../gitio/zip-builder.js';
import { ensureCliBuilt, runCli } from './cli.js';

const TOKEN = 'glpat-cliS3cretToken0123456789';
let server: TestServer;
let repos: RepoRoot;
let daemon: GitDaemon;
let smart: SmartHttp;
let sshd: Sshd;
let tmp: string;

beforeAll(async () => {
  ensureCliBuilt();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'samokoder-cli-gitio-'));
  repos = await repoRoot();
  await repos.create('app', { 'README.md': '# app\n' });
  await repos.createEmpty('target');
  daemon = await startGitDaemon(repos.dir);
  smart = await startSmartHttp(repos.dir, 'oauth2', TOKEN);
  sshd = await startSshd();
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off', SAMOKODER_RUN_WORKER: false });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await daemon?.stop();
  await smart?.stop();
  await sshd?.stop();
  await repos?.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

test('git-credentials add/list, import a URL and a ZIP, push; a non-fast-forward needs --force', async () => {
  const base = { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: undefined };
  const login = await runCli(['login', '--email', 'cli-git@example.com', '--register'], { ...base, SAMOKODER_PASSWORD: 'correct horse battery' });
  const env = { ...base, SAMOKODER_TOKEN: /^export SAMOKODER_TOKEN=(\S+)$/m.exec(login.stdout)![1] };

  const add = await runCli(['git-credentials', 'add', '--kind', 'token', '--secret-env', 'GIT_TOKEN', '--username', 'oauth2'], { ...env, GIT_TOKEN: TOKEN });
  expect(add.code).toBe(0);
  expect(add.stdout + add.stderr).not.toContain(TOKEN);
  const credentialId = /as ([0-9a-f-]{36})/.exec(add.stdout)![1]!;
  const list = await runCli(['git-credentials', 'list'], env);
  expect(list.stdout).toContain(credentialId);
  expect(list.stdout).not.toContain(TOKEN);

  const fromGit = await runCli(['import', `${daemon.url}app.git`, '--json'], env);
  expect(fromGit.code).toBe(0);
  const project = JSON.parse(fromGit.stdout).project;
  expect(project.importedFrom).toBe(`${daemon.url}app.git`);

  const zipFile = path.join(tmp, 'site.zip');
  await writeFile(zipFile, buildZip([{ name: 'index.html', data: '<h1>hi</h1>' }]));
  const fromZip = await runCli(['import', zipFile, '--name', 'Site'], env);
  expect(fromZip.code).toBe(0);
  expect(fromZip.stdout).toMatch(/imported 1 files as project [0-9a-f-]{36} \(Site\)/);

  const remote = `${smart.url}target.git`;
  const push = await runCli(['push', project.id, remote, '--credential', credentialId], env);
  expect(push.code).toBe(0);
  expect(push.stdout).toMatch(new RegExp(`pushed [0-9a-f]{12} to main of ${remote.replace(/[.]/g, '\\.')}`));
  await repos.commitDirectly('target', 'main', 'theirs.txt', 'x');
  const rejected = await runCli(['push', project.id, remote, '--credential', credentialId], env);
  expect(rejected.code).toBe(2);
  expect(rejected.stderr).toContain('E_PUSH_REJECTED');
  const forced = await runCli(['push', project.id, remote, '--credential', credentialId, '--force'], env);
  expect(forced.code).toBe(0);
  expect(forced.stdout).toContain('(forced)');

  const hostile = await runCli(['import', 'file:///etc'], env);
  expect(hostile.code).toBe(2);
  expect(hostile.stderr).toContain('E_GIT_URL');
}, 120_000);

test('over ssh: an ssh-key from a file, import and push with --host-key; without it exit 2 naming the fingerprint', async () => {
  const base = { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: undefined };
  const login = await runCli(['login', '--email', 'cli-ssh@example.com', '--register'], { ...base, SAMOKODER_PASSWORD: 'correct horse battery' });
  const env = { ...base, SAMOKODER_TOKEN: /^export SAMOKODER_TOKEN=(\S+)$/m.exec(login.stdout)![1] };
  const keyFile = path.join(tmp, 'id_ed25519');
  await writeFile(keyFile, sshd.client.privateKey, { mode: 0o600 });
  const add = await runCli(['git-credentials', 'add', '--kind', 'ssh-key', '--key-file', keyFile], env);
  expect(add.code).toBe(0);
  const credentialId = /as ([0-9a-f-]{36})/.exec(add.stdout)![1]!;
  const url = (name: string) => `ssh://root@127.0.0.1:${sshd.port}${repos.dir}/${name}.git`;

  const unpinned = await runCli(['import', url('app'), '--credential', credentialId], env);
  expect(unpinned.code).toBe(2);
  expect(unpinned.stderr).toContain('E_GIT_HOST_KEY');
  expect(unpinned.stderr).toContain(sshd.hostFingerprint);

  const imported = await runCli(['import', url('app'), '--credential', credentialId, '--host-key', sshd.hostFingerprint, '--json'], env);
  expect(imported.code).toBe(0);
  const project = JSON.parse(imported.stdout).project;
  await repos.createEmpty('over-ssh');
  const push = await runCli(['push', project.id, url('over-ssh'), '--credential', credentialId, '--host-key', sshd.hostKey], env);
  expect(push.code).toBe(0);
  expect(await repos.head('over-ssh', 'main')).toMatch(/^[0-9a-f]{40}$/);
}, 120_000);
