import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { startVerdaccioCache } from '../../sandbox/verdaccio-cache.js';
import { ensureBuilt, ROOT } from '../helpers/processes.js';

test('the cache pulls from the configured upstream, else npm_config_registry, else the npm registry; through the host proxy', () => {
  expect(loadConfig({ SAMOKODER_DATA_DIR: '/srv/sk' }).sandbox.packageCache).toEqual({
    dir: '/srv/sk/package-cache',
    upstream: 'https://registry.npmjs.org/',
    upstreamProxy: {},
    url: undefined,
  });
  const fromNpm = loadConfig({ npm_config_registry: 'https://npm.mirror.example/', HTTPS_PROXY: 'http://proxy.example:3128', NO_PROXY: 'localhost' }).sandbox.packageCache;
  expect(fromNpm.upstream).toBe('https://npm.mirror.example/');
  expect(fromNpm.upstreamProxy).toEqual({ https: 'http://proxy.example:3128', noProxy: 'localhost' });
  const explicit = loadConfig({ npm_config_registry: 'https://npm.mirror.example/', SAMOKODER_PACKAGE_CACHE_UPSTREAM: 'https://other.example/npm/', SAMOKODER_PACKAGE_CACHE_DIR: '/var/cache/sk' }).sandbox.packageCache;
  expect(explicit).toMatchObject({ upstream: 'https://other.example/npm/', dir: '/var/cache/sk' });
});

test('a cache URL that is not plain http is a configuration error naming the variable', () => {
  expect(() => loadConfig({ SAMOKODER_PACKAGE_CACHE_URL: 'https://172.30.0.1:4873/' })).toThrow(/SAMOKODER_PACKAGE_CACHE_URL/);
});

test("the upstream proxy's credentials never reach the log", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-package-cache-log-'));
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
  const cache = await startVerdaccioCache({
    host: '127.0.0.1',
    port: 0,
    settings: { dir, upstream: 'https://user:upstream-s3cret@127.0.0.1:9/', upstreamProxy: { https: 'http://proxyuser:proxy-s3cret@127.0.0.1:9' }, url: undefined },
    caBundle: undefined,
    logger,
  });
  try {
    // A request the cache must send upstream (through the unreachable proxy), so it logs its failure.
    const res = await fetch(`${cache.url}some-package`);
    expect(res.status).toBeGreaterThanOrEqual(400);
  } finally {
    await cache.stop();
    await rm(dir, { recursive: true, force: true });
  }
  expect(lines.join('\n')).toContain('package cache listening');
  expect(lines.join('\n')).not.toMatch(/s3cret/);
});

test('`samokoder package-cache` serves until SIGTERM, then exits 0 with its cache process gone; without --listen it is bad input', async () => {
  ensureBuilt();
  const cli = path.join(ROOT, 'dist/cli/main.js');
  expect(spawnSync(process.execPath, [cli, 'package-cache'], { encoding: 'utf8' }).status).toBe(2);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-package-cache-cli-'));
  const child = spawn(process.execPath, [cli, 'package-cache', '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH, SAMOKODER_PACKAGE_CACHE_DIR: dir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`exited before listening: ${out}`)));
    });
    expect((await fetch(`${url}-/ping`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}-/ping`)).rejects.toThrow();
    expect(await readdir(dir)).toContain('.verdaccio-db.json');
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
