import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cloneChecked } from '../../gitio/clone.js';
import { fingerprint, parseHostKeyPin, publishedHostKeys } from '../../gitio/host-keys.js';
import { withRemoteSession } from '../../gitio/remote-session.js';
import { gitPolicy, parseGitUrl } from '../../gitio/remote-url.js';

describe('git remote policy: URL forms, private networks, sessions', () => {
  const open = gitPolicy(true);
  const closed = gitPolicy(false);

  test.each([
    ['https://github.com/owner/repo.git', 'https', 'github.com', 443, 'repo'],
    ['http://gitea.lan:3000/me/app', 'http', 'gitea.lan', 3000, 'app'],
    ['ssh://git@gitlab.com:2222/group/app.git', 'ssh', 'gitlab.com', 2222, 'app'],
    ['git@github.com:owner/repo.git', 'ssh', 'github.com', 22, 'repo'],
    ['git://git.kernel.org/pub/scm/git/git.git', 'git', 'git.kernel.org', 9418, 'git'],
  ])('%s is a %s remote', (url, transport, host, port, repoName) => {
    expect(parseGitUrl(url, closed)).toMatchObject({ transport, host, port, repoName, display: url });
  });

  test('loopback and private addresses: allowed by default, refused with SAMOKODER_GIT_ALLOW_PRIVATE=false', () => {
    for (const url of ['git://127.0.0.1/repo.git', 'https://10.0.0.5/repo.git', 'http://localhost:3000/r.git', 'git@192.168.1.2:r.git', 'https://[::1]/r.git']) {
      expect(parseGitUrl(url, open).url).toBe(url);
      expect(() => parseGitUrl(url, closed)).toThrow(expect.objectContaining({ code: 'E_GIT_URL', message: expect.stringContaining('SAMOKODER_GIT_ALLOW_PRIVATE=true') }));
    }
  });

  test('metadata and link-local addresses are refused whatever the setting', () => {
    for (const url of ['http://169.254.169.254/r.git', 'git@[fe80::1]:r.git', 'https://[fd00:ec2::254]/r.git', 'git://0.0.0.0/r.git', 'https://[::ffff:a9fe:a9fe]/r.git']) {
      expect(() => parseGitUrl(url, open)).toThrow(expect.objectContaining({ code: 'E_GIT_URL' }));
    }
  });

  test("hostKey: key lines (a host before them allowed) and SHA256 fingerprints; the built-in github.com key has GitHub's published fingerprint", () => {
    const github = 'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const pin = parseHostKeyPin(`${github}\nSHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s`);
    expect(pin.keys).toEqual([{ type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' }]);
    expect(fingerprint(pin.keys[0]!)).toBe('SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU');
    expect(pin.fingerprints).toEqual(['SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s']);
    // As published on docs.github.com ("GitHub's SSH key fingerprints"): Ed25519, ECDSA.
    expect(publishedHostKeys('GitHub.com')?.map(fingerprint)).toEqual(['SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU', 'SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM']);
    expect(publishedHostKeys('example.com')).toBeUndefined();
    for (const bad of ['', 'yes', 'SHA256:short', 'MD5:16:27:ac:a5', 'ssh-ed25519 not-base64']) expect(() => parseHostKeyPin(bad)).toThrow(expect.objectContaining({ code: 'E_VALIDATION' }));
  });

  test('user@host:/absolute/path is the scp-like form git reads as ssh', () => {
    expect(parseGitUrl('git@192.168.1.2:/srv/git/app.git', open)).toMatchObject({ transport: 'ssh', host: '192.168.1.2', port: 22, repoName: 'app' });
  });

  test('a name that resolves to loopback is refused when connecting, with private networks off', async () => {
    const remote = parseGitUrl('http://localhost/r.git', open);
    await expect(withRemoteSession(remote, {}, closed, async () => 'connected')).rejects.toMatchObject({ code: 'E_GIT_URL' });
    await expect(withRemoteSession(remote, {}, open, async () => 'connected')).resolves.toBe('connected');
  });

  test('a credential of the wrong kind for the transport is refused before anything runs', async () => {
    const ssh = parseGitUrl('git@127.0.0.1:r.git', open);
    await expect(withRemoteSession(ssh, { credential: { kind: 'token', username: null, secret: 'ghp_x' } }, open, async () => 'ran')).rejects.toMatchObject({ code: 'E_VALIDATION' });
    const https = parseGitUrl('https://127.0.0.1/r.git', open);
    await expect(withRemoteSession(https, { credential: { kind: 'ssh-key', username: null, secret: 'k' } }, open, async () => 'ran')).rejects.toMatchObject({ code: 'E_VALIDATION' });
  });

  test('a token over plain http only to loopback or private networks', async () => {
    const token = { kind: 'token' as const, username: null, secret: 'ghp_x' };
    await expect(withRemoteSession(parseGitUrl('http://8.8.8.8/r.git', open), { credential: token }, open, async () => 'ran')).rejects.toMatchObject({ code: 'E_GIT_URL', message: expect.stringContaining('https://8.8.8.8/r.git') });
    await expect(withRemoteSession(parseGitUrl('http://127.0.0.1/r.git', open), { credential: token }, open, async () => 'ran')).resolves.toBe('ran');
    await expect(withRemoteSession(parseGitUrl('https://8.8.8.8/r.git', open), { credential: token }, open, async () => 'ran')).resolves.toBe('ran');
  });

  test('the SSH key lives in a 0600 file only during the session; the error text never shows it', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQDfakefakefakefake\n-----END OPENSSH PRIVATE KEY-----\n';
    const remote = parseGitUrl('git@127.0.0.1:r.git', open);
    let dir = '';
    const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const scrubbed = await withRemoteSession(remote, { credential: { kind: 'ssh-key', username: null, secret: key }, hostKey }, open, async (s) => {
      dir = s.tmp;
      const names = await readdir(s.tmp);
      expect(names).toContain('id');
      expect((await stat(path.join(s.tmp, 'id'))).mode & 0o777).toBe(0o600);
      expect(s.env.GIT_SSH_COMMAND).toContain('HostName=127.0.0.1');
      expect(s.env.GIT_ALLOW_PROTOCOL).toBe('ssh');
      // Only the pinned key, under the name ssh looks it up by; any other key is refused.
      expect(s.env.GIT_SSH_COMMAND).toContain('StrictHostKeyChecking=yes');
      expect(await readFile(path.join(s.tmp, 'known_hosts'), 'utf8')).toBe(`127.0.0.1 ${hostKey}\n`);
      return s.scrub(`could not use ${key}`);
    });
    expect(existsSync(dir)).toBe(false);
    expect(scrubbed).not.toContain('AAAAB3NzaC1yc2EAAAADAQABAAABAQDfakefakefakefake');
  });

  test('a server that never answers: the clone is killed at the time limit, nothing kept', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as net.AddressInfo).port;
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'samokoder-silent-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const remote = parseGitUrl(`git://127.0.0.1:${port}/r.git`, open);
      const attempt = withRemoteSession(remote, {}, open, (s) => cloneChecked(s, remote, undefined, { maxBytes: 1 << 20, maxFiles: 10, timeoutMs: 1500 }));
      await expect(attempt).rejects.toMatchObject({ code: 'E_GIT_REMOTE', message: expect.stringContaining('took longer than') });
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      process.env.TMPDIR = before;
      for (const s of sockets) s.destroy();
      silent.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
