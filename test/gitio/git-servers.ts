import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/ports.js';

const exec = promisify(execFile);

/** Runs git for fixtures with no user or system config, a fixed author, and no prompt. */
export async function git(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Fixture',
      GIT_AUTHOR_EMAIL: 'fixture@example.com',
      GIT_COMMITTER_NAME: 'Fixture',
      GIT_COMMITTER_EMAIL: 'fixture@example.com',
      GIT_ALLOW_PROTOCOL: 'file',
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}


async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A directory of bare repositories served by the test's git servers. */
export interface RepoRoot {
  readonly dir: string;
  /** A bare repository `<name>.git` with one commit of `files` (a `null` content makes a symlink to /etc/passwd). */
  create(name: string, files: Record<string, string | null>, options?: { executable?: string[]; submodule?: string }): Promise<string>;
  /** An empty bare repository that accepts pushes. */
  createEmpty(name: string): Promise<string>;
  /** A new commit on `branch` of `name`, made directly in the server's repository (another user's push). */
  commitDirectly(name: string, branch: string, file: string, content: string): Promise<string>;
  head(name: string, branch: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

export async function repoRoot(): Promise<RepoRoot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-git-fixture-'));
  const work = async (name: string) => {
    const w = await mkdtemp(path.join(os.tmpdir(), `samokoder-git-work-${name}-`));
    await git(['init', '--quiet', '--initial-branch=main'], w);
    return w;
  };
  return {
    dir,
    async create(name, files, options = {}) {
      const w = await work(name);
      for (const [file, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(w, file)), { recursive: true });
        if (content === null) await symlink('/etc/passwd', path.join(w, file));
        else await writeFile(path.join(w, file), content);
      }
      for (const file of options.executable ?? []) await chmod(path.join(w, file), 0o755);
      await git(['add', '--all'], w);
      if (options.submodule) {
        // A gitlink and a .gitmodules pointing at a command transport: a clone that followed submodules would run it.
        await writeFile(path.join(w, '.gitmodules'), `[submodule "evil"]\n\tpath = evil\n\turl = ${options.submodule}\n`);
        await git(['add', '.gitmodules'], w);
        await git(['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},evil`], w);
      }
      await git(['commit', '--quiet', '-m', 'fixture'], w);
      const bare = path.join(dir, `${name}.git`);
      await git(['clone', '--quiet', '--bare', w, bare], dir);
      await git(['config', 'http.receivepack', 'true'], bare, { GIT_DIR: bare });
      await rm(w, { recursive: true, force: true });
      return bare;
    },
    async createEmpty(name) {
      const bare = path.join(dir, `${name}.git`);
      await git(['init', '--quiet', '--bare', '--initial-branch=main', bare], dir);
      await git(['config', 'http.receivepack', 'true'], bare, { GIT_DIR: bare });
      return bare;
    },
    async commitDirectly(name, branch, file, content) {
      const w = await mkdtemp(path.join(os.tmpdir(), 'samokoder-git-direct-'));
      await git(['clone', '--quiet', '--branch', branch, path.join(dir, `${name}.git`), w], os.tmpdir());
      await writeFile(path.join(w, file), content);
      await git(['add', '--all'], w);
      await git(['commit', '--quiet', '-m', 'someone else'], w);
      await git(['push', '--quiet', 'origin', branch], w);
      const sha = (await git(['rev-parse', 'HEAD'], w)).trim();
      await rm(w, { recursive: true, force: true });
      return sha;
    },
    async head(name, branch) {
      const out = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], dir, { GIT_DIR: path.join(dir, `${name}.git`) }).catch(() => '');
      return out.trim() || undefined;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface GitDaemon {
  /** git://127.0.0.1:<port>/ */
  readonly url: string;
  stop(): Promise<void>;
}

/** `git daemon` on loopback over `root`, exporting every repository and accepting pushes. */
export async function startGitDaemon(root: string): Promise<GitDaemon> {
  const port = await freePort();
  const child = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--informative-errors', `--base-path=${root}`, '--listen=127.0.0.1', `--port=${port}`, root], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    stdio: 'ignore',
  });
  await waitForPort(port);
  return { url: `git://127.0.0.1:${port}/`, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export interface SmartHttp {
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
  /** Every request: method, URL and the Authorization header as received. */
  readonly requests: Array<{ method: string; url: string; authorization: string | undefined }>;
  stop(): Promise<void>;
}

/** `git http-backend` (CGI) behind a small Node HTTP server that requires basic auth `user:password`. */
export async function startSmartHttp(root: string, user: string, password: string): Promise<SmartHttp> {
  const requests: SmartHttp['requests'] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('auth required');
      req.resume();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: user,
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
