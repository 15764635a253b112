import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { SimpleGitOptions } from 'simple-git';

/** What GitHost runs: through simple-git (`raw`), or a command that prints nothing (`silent`). */
export type GitHostRequest =
  | { kind: 'raw'; options: Partial<SimpleGitOptions>; env: Record<string, string>; args: readonly string[] }
  | { kind: 'silent'; args: readonly string[]; cwd: string; env: Record<string, string>; timeout: number };

type Reply = { id: number; ok: true; out: string } | { id: number; ok: false; message: string };

/**
 * The host process: plain JavaScript, run with `node -e` (so it needs no build step and runs the
 * same under the compiled service and under Jest). It loads simple-git from the path it is given,
 * keeps one client per repository, and answers each request by id.
 */
const HOST_SOURCE = String.raw`
const { execFile } = require('node:child_process');
const { simpleGit } = require(process.env.SAMOKODER_SIMPLE_GIT);
const clients = new Map();
function client(options, env) {
  const key = JSON.stringify([options, env]);
  let c = clients.get(key);
  if (!c) {
    c = simpleGit(options).env(env);
    clients.set(key, c);
    if (clients.size > 64) clients.delete(clients.keys().next().value);
  }
  return c;
}
function run(m) {
  if (m.kind === 'raw') return client(m.options, m.env).raw(m.args);
  return new Promise((resolve, reject) =>
    execFile('git', m.args, { cwd: m.cwd, env: m.env, timeout: m.timeout, maxBuffer: 16 * 1024 * 1024, windowsHide: true }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}
process.on('message', (m) => {
  run(m).then(
    (out) => process.send({ id: m.id, ok: true, out: String(out) }),
    (err) => process.send({ id: m.id, ok: false, message: String((err && err.message) || err) }),
  );
});
process.on('disconnect', () => process.exit(0));
`;

/**
 * Runs the service's git commands in a small helper process instead of this one.
 *
 * Why: every git command is a fork() of the process that starts it, and fork copies the page
 * tables of the whole process. With PGlite (the default database) this process holds ~750 MB of
 * WebAssembly memory, which made each spawn cost ~20 ms (3 ms from a 50 MB process) — more than
 * git itself; a pipeline step's commit paid it twice. The host is a ~40 MB Node process started
 * on first use (and again if it ever dies), so its forks are cheap. simple-git runs inside it
 * with the same options; nothing but command arguments and output crosses the IPC channel. It
 * never keeps this process alive (unref'd while idle) and exits when this process goes away.
 */
export class GitHost {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, { child: ChildProcess; resolve: (out: string) => void; reject: (err: Error) => void }>();
  private nextId = 1;

  /** The host's process id while it runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.child?.connected ? this.child.pid : undefined;
  }

  run(request: GitHostRequest): Promise<string> {
    const child = this.ensure();
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { child, resolve, reject });
      this.refWhileBusy(child);
      child.send({ ...request, id }, (err) => {
        if (err) this.settle({ id, ok: false, message: `git host unreachable: ${err.message}` });
      });
    });
  }

  private ensure(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const simpleGitPath = createRequire(import.meta.url).resolve('simple-git');
    const child = spawn(process.execPath, ['-e', HOST_SOURCE], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SAMOKODER_SIMPLE_GIT: simpleGitPath },
      windowsHide: true,
    });
    child.on('message', (reply: Reply) => this.settle(reply));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      // Requests in flight on a host that died fail; the next request starts a new host.
      for (const [id, p] of this.pending) if (p.child === child) this.settle({ id, ok: false, message: 'git host exited' });
    });
    child.on('error', () => undefined);
    this.child = child;
    this.refWhileBusy(child);
    return child;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.out);
    else p.reject(new Error(reply.message));
    if (this.child) this.refWhileBusy(this.child);
  }

  /** The host (and its IPC channel) keeps this process alive only while a request is in flight. */
  private refWhileBusy(child: ChildProcess): void {
    const channel = (child as ChildProcess & { channel?: { ref(): void; unref(): void } }).channel;
    if (this.pending.size > 0) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  }
}

/** One host per service process. */
export const gitHost = new GitHost();
