import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { PackageCacheConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { npmClientEnv, type PackageCache } from './package-cache.js';

export interface VerdaccioCacheOptions {
  /** The address it listens on: the sandbox network's gateway (or the compose host's). */
  host: string;
  /** 0: a free port of the OS's choosing (one cache per service process). */
  port: number;
  settings: PackageCacheConfig;
  /** Added to Node's roots for the upstream's TLS (the operator's CA), or undefined. */
  caBundle: string | undefined;
  logger: Logger;
}

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/**
 * Verdaccio runs in a child process of its own: its Express app, plugins and global logger stay
 * out of the service's process, a crash of one leaves the other running, and it gets only the
 * environment it needs (never the service's secrets). The configuration arrives over IPC, not
 * argv or env, because an upstream proxy URL may carry credentials. It exits when the IPC channel
 * closes, so a killed service leaves no cache behind.
 */
const CHILD_SOURCE = String.raw`
const { runServer } = require(process.env.SAMOKODER_VERDACCIO);
process.once('message', async ({ config, host, port }) => {
  try {
    const server = await runServer(config);
    server.once('error', (err) => { process.send({ error: String(err && err.message || err) }); process.exit(1); });
    server.listen(port, host, () => process.send({ port: server.address().port }));
  } catch (err) {
    process.send({ error: String(err && err.message || err) });
    process.exit(1);
  }
});
process.on('disconnect', () => process.exit(0));
`;

/** Starts a read-only pull-through npm cache (verdaccio) and resolves once it listens. */
export async function startVerdaccioCache(options: VerdaccioCacheOptions): Promise<PackageCache> {
  const { settings, logger } = options;
  await mkdir(settings.dir, { recursive: true });
  const child = spawn(process.execPath, ['-e', CHILD_SOURCE], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      SAMOKODER_VERDACCIO: createRequire(import.meta.url).resolve('verdaccio'),
      ...(options.caBundle ? { NODE_EXTRA_CA_CERTS: options.caBundle } : {}),
    },
    windowsHide: true,
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  child.on('error', () => undefined);
  forwardLog(child.stdout, logger);
  forwardLog(child.stderr, logger);

  let port: number;
  try {
    port = await ready(child, exit, options);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // The service's shutdown stops it; it never keeps the service alive on its own.
  child.unref();
  (child as ChildProcess & { channel?: { unref(): void } }).channel?.unref();
  for (const s of [child.stdout, child.stderr]) (s as (Readable & { unref?: () => void }) | null)?.unref?.();
  const url = `http://${options.host}:${port}/`;
  logger.info({ url, storage: settings.dir, upstream: redact(settings.upstream) }, 'sandbox: package cache listening');
  return {
    url,
    port,
    clientEnv: npmClientEnv(url),
    alive: () => !exited,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * Verdaccio's configuration: every package proxied from the upstream and cached; reads open to
 * all, publish and unpublish to nobody, no user registration, no web UI, no audit forwarding (the
 * audit endpoint answers 500 instead of posting a project's dependency list upstream).
 */
function verdaccioConfig(settings: PackageCacheConfig): Record<string, unknown> {
  const proxy = settings.upstreamProxy;
  return {
    self_path: path.join(settings.dir, 'config.yaml'),
    storage: settings.dir,
    auth: { htpasswd: { file: path.join(settings.dir, 'htpasswd'), max_users: -1 } },
    // maxage: how long a cached packument is served before the upstream is asked again (new versions).
    uplinks: { upstream: { url: settings.upstream, cache: true, maxage: '10m', timeout: '60s' } },
    packages: { '**': { access: '$all', publish: '$nobody', unpublish: '$nobody', proxy: 'upstream' } },
    ...(proxy.https ? { https_proxy: proxy.https } : {}),
    ...(proxy.http ? { http_proxy: proxy.http } : {}),
    ...(proxy.noProxy ? { no_proxy: proxy.noProxy } : {}),
    web: { enable: false },
    middlewares: { audit: { enabled: false } },
    log: { type: 'stdout', format: 'json', level: 'warn' },
    server: { keepAliveTimeout: 60 },
  };
}

function ready(child: ChildProcess, exit: Promise<void>, options: VerdaccioCacheOptions): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the package cache did not listen within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.once('message', (m: { port?: number; error?: string }) => {
      clearTimeout(timer);
      if (typeof m.port === 'number') resolve(m.port);
      else reject(new Error(`the package cache could not start on ${options.host}:${options.port}: ${m.error ?? 'unknown error'}`));
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error('the package cache exited while starting'));
    });
    child.send({ config: verdaccioConfig(options.settings), host: options.host, port: options.port });
  });
}

/** Verdaccio's JSON log lines (pino levels) into the service's log. */
function forwardLog(stream: Readable | null, logger: Logger): void {
  let buffer = '';
  stream?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      let entry: { level?: number; msg?: string } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        entry = { level: 40, msg: line };
      }
      // npm asks for one tarball twice at once when two dependants nest it; the second write
      // finds the first's file and verdaccio warns, though both answers were served.
      const level = entry.msg?.includes('this package is already present') ? 20 : (entry.level ?? 30);
      const log = level >= 50 ? logger.error.bind(logger) : level >= 40 ? logger.warn.bind(logger) : logger.debug.bind(logger);
      log({ component: 'package-cache' }, `package cache: ${entry.msg ?? line}`);
    }
  });
}

/** An upstream URL without its user and password, for the log. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}
