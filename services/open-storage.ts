import type { Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { resolveMasterKey, type MasterKey } from '../core/master-key.js';
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import type { Database } from '../db/port.js';

export interface Storage {
  logger: Logger;
  /** Migrated. */
  db: Database;
  masterKey: MasterKey;
  /** Closes the database if this opened it (not one passed in). */
  close(): Promise<void>;
}

/**
 * The bottom layer of the composition root: logger, database (migrated) and master key. The
 * whole service builds on it (createServices); so do one-shot commands that need only storage
 * (`samokoder rotate-master-key`).
 */
export async function openStorage(config: Config, o: { db?: Database; logger?: Logger; masterKey?: MasterKey; poolSize?: number } = {}): Promise<Storage> {
  const logger = o.logger ?? createLogger({ level: config.logLevel });
  const db = o.db ?? (await openDatabase({ url: config.database.url, poolSize: o.poolSize ?? config.database.poolSize, dataDir: config.dataDir, logger }));
  const close = async () => {
    if (!o.db) await db.close();
  };
  try {
    await migrate(db, logger);
    const masterKey = o.masterKey ?? (await resolveMasterKey(config.masterKey, config.dataDir, logger));
    return { logger, db, masterKey, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
