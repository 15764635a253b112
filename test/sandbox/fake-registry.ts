import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A package the fake registry serves: real tarballs made with `npm pack`. */
export interface FixturePackage {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  /** Serve this package's tarball bytes instead of its own, under its own integrity (a tampered upstream). */
  tamperedWith?: string;
}

export interface FakeRegistry {
  /** http://127.0.0.1:<port>/ (the host reaches it; it listens on every interface, so a sandbox would too without the firewall). */
  url: string;
  port: number;
  /** Every request, as "METHOD /path", in order. */
  requests: string[];
  tarballRequests(): string[];
  close(): Promise<void>;
}

/**
 * An npm registry serving packuments and tarballs of the given packages, packed with the real
 * `npm pack` from fixture directories, with correct `dist.integrity` (sha512) and `shasum`. It
 * records the requests it gets, so a test can count what reached the upstream.
 */
export async function startFakeRegistry(packages: readonly FixturePackage[]): Promise<FakeRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-fake-registry-'));
  const tarballs = new Map<string, Buffer>();
  for (const p of packages) {
    const src = path.join(dir, 'src', p.name);
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, 'package.json'), JSON.stringify({ name: p.name, version: p.version, main: 'index.js', dependencies: p.dependencies ?? {} }));
    await writeFile(path.join(src, 'index.js'), `module.exports = ${JSON.stringify(`${p.name}@${p.version}`)};\n`);
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: src });
    tarballs.set(p.name, await readFile(path.join(dir, stdout.trim().split('\n').pop()!)));
  }
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = decodeURIComponent(req.url ?? '/');
    const tarball = /^\/([^/]+)\/-\/[^/]+\.tgz$/.exec(url);
    const pkg = packages.find((p) => p.name === (tarball ? tarball[1] : url.slice(1)));
    if (req.method !== 'GET' || !pkg) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const own = tarballs.get(pkg.name)!;
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(pkg.tamperedWith ? tarballs.get(pkg.tamperedWith) : own);
      return;
    }
    const packument = {
      name: pkg.name,
      'dist-tags': { latest: pkg.version },
      versions: {
        [pkg.version]: {
          name: pkg.name,
          version: pkg.version,
          main: 'index.js',
          dependencies: pkg.dependencies ?? {},
          dist: {
            tarball: `${base}${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`,
            integrity: `sha512-${createHash('sha512').update(own).digest('base64')}`,
            shasum: createHash('sha1').update(own).digest('hex'),
          },
        },
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}/`;
  return {
    url: base,
    port,
    requests,
    tarballRequests: () => requests.filter((r) => r.endsWith('.tgz')),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
