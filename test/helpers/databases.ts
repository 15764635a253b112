import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { migrate } from '../../db/migrate.js';
import { PgDatabase } from '../../db/pg-database.js';
import { PgliteDatabase } from '../../db/pglite-database.js';
import type { Database } from '../../db/port.js';

export type DatabaseKind = 'postgres' | 'pglite';
/** Both adapters; suites run once per entry and the test names carry the kind. */
export const DATABASE_KINDS: readonly DatabaseKind[] = ['postgres', 'pglite'];

export interface TestDatabase {
  db: Database;
  /** For postgres: a URL to this test's own database (for child processes). */
  url: string | undefined;
  cleanup(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the suite with `npm test` (which starts PostgreSQL)');
  return url;
}

/** A new, empty database on the test PostgreSQL server; dropped by cleanup(). */
export async function createEmptyPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

let template: Buffer | undefined;

/**
 * A fresh in-memory PGlite database: a clone of the run's template cluster (test/global-setup.mjs)
 * when there is one, else initdb from scratch (a helper compiled into a bench).
 */
function openPglite(): Promise<PgliteDatabase> {
  const dump = pgliteTemplate();
  return dump ? PgliteDatabase.load(dump) : PgliteDatabase.open();
}

/** The run's template cluster as a tarball for PGlite's `loadDataDir`, if there is one. */
export function pgliteTemplate(): Blob | undefined {
  const file = process.env.TEST_PGLITE_TEMPLATE;
  if (!file) return undefined;
  template ??= readFileSync(file);
  return new Blob([template]);
}

/** An isolated, migrated database of the given kind. */
export async function createTestDatabase(kind: DatabaseKind, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let t: TestDatabase;
  if (kind === 'postgres') {
    const { url, drop } = await createEmptyPgDatabase();
    const db = new PgDatabase({ connectionString: url, poolSize: 20 });
    t = {
      db,
      url,
      cleanup: async () => {
        await db.close().catch(() => undefined);
        await drop();
      },
    };
  } else {
    const db = await openPglite();
    t = { db, url: undefined, cleanup: () => db.close() };
  }
  if (options.migrate !== false) await migrate(t.db);
  return t;
}
