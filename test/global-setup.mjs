// Jest global setup: a throwaway PostgreSQL server for the whole run, unless TEST_DATABASE_URL
// names one already. Workers inherit process.env, so they find the URL there.
import { startPostgres } from '../scripts/lib/postgres.mjs';

export default async function globalSetup() {
  if (process.env.TEST_DATABASE_URL) return;
  const pg = await startPostgres({ log: (m) => process.stderr.write(`\n${m}\n`) });
  process.env.TEST_DATABASE_URL = pg.url;
  globalThis.__SAMOKODER_PG__ = pg;
}
