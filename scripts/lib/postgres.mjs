// A throwaway PostgreSQL cluster for tests: initdb into a temp dir, start on a free port, stop and
// delete afterwards. Uses the server binaries on this machine (Debian's postgresql-15); installs
// them with apt-get when they are missing and we are root on Debian.
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { capture, isRoot, run, which } from './run.mjs';

function findBinDir() {
  const onPath = which('pg_ctl');
  if (onPath && which('initdb')) return path.dirname(onPath);
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    for (const v of readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
      const dir = path.join(base, v, 'bin');
      if (existsSync(path.join(dir, 'pg_ctl')) && existsSync(path.join(dir, 'initdb'))) return dir;
    }
  }
  return undefined;
}

async function ensureBinaries(log) {
  let dir = findBinDir();
  if (dir) return dir;
  if (isRoot() && existsSync('/etc/debian_version')) {
    log('• installing PostgreSQL server binaries (apt-get install postgresql)…');
    await run('apt-get', ['update', '-qq']);
    await run('apt-get', ['install', '-y', '-qq', 'postgresql'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    dir = findBinDir();
    if (dir) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15) or set TEST_DATABASE_URL to a server the tests may create databases on.',
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user
 * (created by Debian's package) and its commands run through runuser.
 */
function asOwner(binDir, cmd, args) {
  const full = path.join(binDir, cmd);
  if (!isRoot()) return [full, args];
  return ['runuser', ['-u', 'postgres', '--', full, ...args]];
}

export async function startPostgres({ log = console.log } = {}) {
  const binDir = await ensureBinaries(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'samokoder-pg-'));
  if (isRoot()) {
    const id = capture('id', ['-u', 'postgres']);
    const gid = capture('id', ['-g', 'postgres']);
    if (id.status !== 0) throw new Error('running as root, but there is no `postgres` user to own the test cluster (useradd --system postgres)');
    chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const [initCmd, initArgs] = asOwner(binDir, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const init = capture(initCmd, initArgs);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  // fsync off and a small WAL: a throwaway cluster trades durability for speed.
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  const [ctlCmd, ctlArgs] = asOwner(binDir, 'pg_ctl', ['-D', dataDir, '-o', opts, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const started = capture(ctlCmd, ctlArgs);
  if (started.status !== 0) throw new Error(`pg_ctl start failed: ${started.stderr || started.stdout}`);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const version = capture(path.join(binDir, 'postgres'), ['--version']).stdout.trim();
  log(`• PostgreSQL test server up (${version}) at ${url}`);
  return {
    url,
    dir,
    async stop() {
      const [c, a] = asOwner(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      capture(c, a);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
