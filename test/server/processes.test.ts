import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS } from '../../db/migrations/index.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt, startServiceProcess, type ServiceProcess } from '../helpers/processes.js';

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

beforeAll(() => ensureBuilt());

describe('the service as real processes', () => {
  const tmpDirs: string[] = [];
  const started: ServiceProcess[] = [];
  const tmp = async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'samokoder-proc-'));
    tmpDirs.push(d);
    return d;
  };
  const dropAfter: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const p of started.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const drop of dropAfter.splice(0)) await drop();
    for (const d of tmpDirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  test('two processes started at once against one empty PostgreSQL both come up; migrations ran once', async () => {
    const { url, drop } = await createEmptyPgDatabase();
    try {
      const env = { DATABASE_URL: url, SAMOKODER_MASTER_KEY: MASTER_KEY };
      const [a, b] = await Promise.all([
        startServiceProcess({ ...env, SAMOKODER_DATA_DIR: await tmp() }),
        startServiceProcess({ ...env, SAMOKODER_DATA_DIR: await tmp() }),
      ]);
      started.push(a, b);
      for (const p of [a, b]) {
        expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
      }
      const applied = [...a.lines, ...b.lines].filter((l) => l.msg === 'migration applied');
      expect(applied.map((l) => l.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const rows = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      const plans = await client.query('SELECT count(*)::int AS n FROM plans');
      await client.end();
      expect(rows.rows.map((r: { version: number }) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(plans.rows[0].n).toBe(5);
    } finally {
      for (const p of started.splice(0)) p.child.kill('SIGKILL');
      await drop();
    }
  });

  test('with no database configured it runs on embedded PGlite in the data dir, with a generated master key', async () => {
    const dataDir = await tmp();
    const p = await startServiceProcess({ SAMOKODER_DATA_DIR: dataDir });
    started.push(p);
    expect((await fetch(`${p.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
    const keyFile = await stat(path.join(dataDir, 'master.key'));
    expect(keyFile.mode & 0o777).toBe(0o600);
    expect(p.lines.some((l) => String(l.msg).includes('SAMOKODER_MASTER_KEY is not set'))).toBe(true);
    expect((await stat(path.join(dataDir, 'pglite'))).isDirectory()).toBe(true);
  });

  test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    // On PostgreSQL: a database on the shared server is cheap, an embedded PGlite's initdb is not
    // (a clean SIGTERM exit on embedded PGlite is shutdown-signals.test.ts's).
    const { url, drop } = await createEmptyPgDatabase();
    dropAfter.push(drop);
    const p = await startServiceProcess({ DATABASE_URL: url, SAMOKODER_DATA_DIR: await tmp(), SAMOKODER_MASTER_KEY: MASTER_KEY });
    started.push(p);
    // Registration hashes with scrypt: long enough to still be in flight when the signal lands.
    const inFlight = fetch(`${p.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'late@example.com', password: 'correct horse battery' }),
    });
    await new Promise((r) => setTimeout(r, 15));
    p.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(201);
    expect((await p.exited).code).toBe(0);
    expect(p.lines.some((l) => l.msg === 'stopped')).toBe(true);
    // The answered request's keep-alive connection was closed, not waited out until the timeout.
    expect(res.headers.get('connection')).toBe('close');
    expect(p.lines.some((l) => String(l.msg).startsWith('shutdown timeout'))).toBe(false);
  });

  test('an invalid setting stops start-up with a message naming the variable', async () => {
    await expect(startServiceProcess({ SAMOKODER_DATA_DIR: await tmp(), PORT: 'eighty' }, 10_000)).rejects.toThrow(/E_CONFIG.*PORT/);
  });
});
