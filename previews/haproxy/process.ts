import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { chown, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { HaproxyAdmin } from './admin.js';
import { HOP_BY_HOP_LUA, renderHaproxyConfig, type HaproxyConfigInput } from './config.js';
import { isAlive } from '../../core/process-alive.js';

const run = promisify(execFile);
const SETPRIV = '/usr/bin/setpriv';
const DIR_PREFIX = 'samokoder-haproxy-';
/** The pid of the service a directory belongs to: the start-up sweep removes those of processes that are gone. */
const OWNER_FILE = 'owner.pid';
/** The unprivileged user HAProxy runs as when the service is root (Debian's `nobody`). */
const NOBODY = { uid: 65534, gid: 65534 };
const READY_TIMEOUT_MS = 15_000;
const RESTART_DELAY_MS = 1000;

/**
 * Writes the config into the FIFO HAProxy reads it from (`-f`): the secret passes through the
 * kernel and is stored in no file. (A Node child's stdin is a socket, which `-f /dev/stdin` cannot
 * open.) The FIFO is opened without blocking once HAProxy has opened it for reading; the config is
 * far below a pipe's capacity, so one write takes it all.
 */
async function feed(fifo: string, config: string): Promise<void> {
  for (;;) {
    const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENXIO') return undefined; // no reader yet
      throw err;
    });
    if (handle) {
      try {
        await handle.write(config);
      } finally {
        await handle.close();
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Removes the directories a killed service left (its HAProxy died with it). */
async function sweepOrphans(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(tmpdir(), name);
    const owner = await readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => undefined);
    // No owner yet: another service may be creating it this moment.
    if (owner === undefined && Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0) < 60_000) continue;
    if (owner !== undefined && isAlive(Number(owner))) continue;
    await rm(dir, { recursive: true, force: true });
  }
}

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
 * Runs HAProxy (the preview data plane) as a child process: its config (which holds the session
 * secret) passed through a FIFO, never written to a file; its maps, Lua script and runtime socket in a
 * private directory; unprivileged when the service is root; killed with the service (setpriv's
 * parent-death signal, so a `kill -9` of the service leaves no HAProxy holding the port);
 * restarted when it dies on its own.
 */
export async function startHaproxy(options: HaproxyStartOptions): Promise<HaproxyProcess> {
  const { binary, logger } = options;
  await sweepOrphans();
  const dir = await mkdtemp(path.join(tmpdir(), DIR_PREFIX));
  const files = { configFifo: path.join(dir, 'config.fifo'), adminSocket: path.join(dir, 'admin.sock'), routesMap: path.join(dir, 'routes.map'), sharesMap: path.join(dir, 'shares.map'), luaScript: path.join(dir, 'hop-by-hop.lua') };
  const asUser = process.getuid?.() === 0 && options.bind.port >= 1024 ? NOBODY : undefined;
  // Half the cores: the rest is the apps' and the service's (one thread forwards tens of thousands of requests a second).
  const config = renderHaproxyConfig({ ...options, ...files, threads: Math.max(1, Math.floor(availableParallelism() / 2)) });
  try {
    await writeFile(path.join(dir, OWNER_FILE), String(process.pid));
    await writeFile(files.routesMap, '', { mode: 0o600 });
    await writeFile(files.sharesMap, '', { mode: 0o600 });
    await writeFile(files.luaScript, HOP_BY_HOP_LUA, { mode: 0o600 });
    if (asUser) for (const p of [dir, files.routesMap, files.sharesMap, files.luaScript]) await chown(p, asUser.uid, asUser.gid);
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
    const args = ['-db', '-f', files.configFifo];
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
    await run('mkfifo', ['-m', '600', files.configFifo]);
    if (asUser) await chown(files.configFifo, asUser.uid, asUser.gid);
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
    const feeding = feed(files.configFifo, config);
    feeding.catch(() => undefined); // HAProxy exited first: `exited` says why
    try {
      await Promise.race([feeding, exited]);
    } finally {
      await rm(files.configFifo, { force: true });
    }
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
