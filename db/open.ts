import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../core/logger.js';
import type { Database } from './port.js';
import { PgDatabase } from './pg-database.js';
import { PgliteDatabase } from './pglite-database.js';

export interface OpenDatabaseOptions {
  /** A postgres:// URL (any PostgreSQL server, Supabase included); absent: embedded PGlite. */
  url: string | undefined;
  poolSize: number;
  /** Where the embedded PGlite database lives (`<dataDir>/pglite`). */
  dataDir: string;
  logger?: Logger;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url) {
    return new PgDatabase({ connectionString: options.url, poolSize: options.poolSize, ...(options.logger ? { logger: options.logger } : {}) });
  }
  const dir = path.join(options.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  return PgliteDatabase.open(dir);
}
