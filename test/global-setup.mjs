// Jest global setup: a throwaway PostgreSQL server for the whole run, unless TEST_DATABASE_URL
// names one already, and the PGlite template every test's PGlite database is cloned from.
// Workers inherit process.env, so they find both there.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres } from '../scripts/lib/postgres.mjs';
import { writePgliteTemplate } from './helpers/pglite-template.mjs';

export default async function globalSetup() {
  const templateDir = mkdtempSync(path.join(os.tmpdir(), 'samokoder-pglite-template-'));
  globalThis.__SAMOKODER_PGLITE_TEMPLATE_DIR__ = templateDir;
  const [template] = await Promise.all([writePgliteTemplate(templateDir), startPostgresUnlessGiven()]);
  process.env.TEST_PGLITE_TEMPLATE = template;
}

async function startPostgresUnlessGiven() {
  if (process.env.TEST_DATABASE_URL) return;
  const pg = await startPostgres({ log: (m) => process.stderr.write(`\n${m}\n`) });
  process.env.TEST_DATABASE_URL = pg.url;
  globalThis.__SAMOKODER_PG__ = pg;
}
