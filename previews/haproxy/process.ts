import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { HaproxyAdmin } from './admin.js';
import { HOP_BY_HOP_LUA, renderHaproxyConfig, type HaproxyConfigInput } from './config.js';

const SETPRIV = '/usr/bin/setpriv';
/** The unprivileged user HAProxy runs as when the service is root (Debian's `nobody`). */
const NOBODY = { uid: 65534, gid: 65534 };
const READY_TIMEOUT_MS = 15_000;
const RESTART_DELAY_MS = 1000;

/** A running HAProxy and what it has written to stderr lately (the secret scrubbed). */
interface Launched {
  proc: ChildProcess;
  output: () => string;
}

/** HAProxy could not bind its port (another process holds it). */
export class PortInUseError extends Error {}

export type HaproxyStartOptions = Omit<HaproxyConfigInput, 'adminSocket' | 'routesMap' | 'sharesMap' | 'luaScript' | 'threads'> & { binary: string; logger: Logger };

export interface HaproxyProcess {
  readonly admin: HaproxyAdmin;
  readonly routesMap: string;
  readonly sharesMap: string;
  /** HTTP requests the backend has handled (its `req_tot` in `show stat`). */
  requestsTo(backend: string): Promise<number>;
  /** Called after HAProxy was restarted (it crashed): its maps are empty again. */
  onRestart(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * Runs HAProxy (the preview data plane) as a child process: its config and maps in a private
 * directory (the config holds the session secret), unprivileged when the service is root, killed
 * with the service (setpriv's parent-death signal, so a `kill -9` of the service leaves no
 * HAProxy holding the port), restarted when it dies on its own.
 */
export async function startHaproxy(options: HaproxyStartOptions): Promise<HaproxyProcess> {
  const { binary, logger } = options;
  const dir = await mkdtemp(path.join(tmpdir(), 'samokoder-haproxy-'));
  const files = { adminSocket: path.join(dir, 'admin.sock'), routesMap: path.join(dir, 'routes.map'), sharesMap: path.join(dir, 'shares.map'), luaScript: path.join(dir, 'hop-by-hop.lua'), config: path.join(dir, 'haproxy.cfg') };
  const asUser = process.getuid?.() === 0 && options.bind.port >= 1024 ? NOBODY : undefined;
  try {
    // Half the cores: the rest is the apps' and the service's (one thread forwards tens of thousands of requests a second).
    const threads = Math.max(1, Math.floor(availableParallelism() / 2));
    await writeFile(files.config, renderHaproxyConfig({ ...options, ...files, threads }), { mode: 0o600 });
    await writeFile(files.routesMap, '', { mode: 0o600 });
    await writeFile(files.sharesMap, '', { mode: 0o600 });
    await writeFile(files.luaScript, HOP_BY_HOP_LUA, { mode: 0o600 });
    if (asUser) for (const p of [dir, files.config, files.routesMap, files.sharesMap, files.luaScript]) await chown(p, asUser.uid, asUser.gid);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const admin = new HaproxyAdmin(files.adminSocket);
  // HAProxy's messages may quote its config, which holds the secret.
  const scrub = (text: string): string => text.split(options.sessionSecret).join('[secret]');
  const restartListeners = new Set<() => void>();
  let child: Launched | undefined;
  let closing = false;
  let restartTimer: NodeJS.Timeout | undefined;

  function spawnHaproxy(): Launched {
    const args = ['-db', '-f', files.config];
    const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
    const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], ...(asUser ?? {}) });
    let stderr = '';
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
      for (const line of chunk.split('\n').filter((l) => /\[(ALERT|WARNING)\]/.test(l))) logger.warn({ haproxy: scrub(line) }, 'preview data plane (HAProxy)');
    });
    return { proc: p, output: () => scrub(stderr) };
  }

  /** Starts HAProxy and waits until its runtime API answers; throws with its output when it exits first. */
  async function launch(): Promise<Launched> {
    const launched = spawnHaproxy();
    const p = launched.proc;
    const exited = new Promise<never>((_, reject) => {
      p.once('error', reject);
      p.once('exit', (code) => {
        const out = launched.output();
        reject(/Address already in use|cannot bind/i.test(out) ? new PortInUseError(`port ${options.bind.port} is in use`) : new Error(`HAProxy exited (${code}): ${out.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
    exited.catch(() => undefined);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const ready = await Promise.race([admin.run(['show info']).then(() => true, () => false), exited]);
      if (ready) return launched;
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`HAProxy did not start in ${READY_TIMEOUT_MS / 1000} s`);
      }
      await Promise.race([new Promise((r) => setTimeout(r, wait)), exited]);
    }
  }

  function supervise(launched: Launched): void {
    child = launched;
    launched.proc.once('exit', (code, signal) => {
      if (closing) return;
      logger.error({ code, signal, output: launched.output().slice(-1000) }, 'preview data plane (HAProxy) exited; restarting it');
      const again = (): void => {
        restartTimer = undefined;
        if (closing) return;
        launch().then((next) => {
          if (closing) return void next.proc.kill('SIGKILL');
          supervise(next);
          for (const l of restartListeners) l();
        }, (err: unknown) => {
          logger.error({ err: scrub(String(err)) }, 'preview data plane (HAProxy) could not restart; trying again');
          restartTimer = setTimeout(again, RESTART_DELAY_MS);
        });
      };
      restartTimer = setTimeout(again, RESTART_DELAY_MS);
    });
  }

  try {
    supervise(await launch());
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    admin,
    routesMap: files.routesMap,
    sharesMap: files.sharesMap,
    onRestart: (listener) => void restartListeners.add(listener),
    async requestsTo(backend) {
      const [header, ...rows] = (await admin.run(['show stat'])).split('\n');
      const columns = (header ?? '').replace(/^# /, '').split(',');
      const row = rows.map((r) => r.split(',')).find((r) => r[0] === backend && r[1] === 'BACKEND');
      return Number(row?.[columns.indexOf('req_tot')] ?? 0);
    },
    async close() {
      closing = true;
      clearTimeout(restartTimer);
      const p = child?.proc;
      if (p && p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
