/**
 * `npm run rotate-master-key`: re-wraps every stored key under SAMOKODER_MASTER_KEY (the new
 * key), decrypting with SAMOKODER_OLD_MASTER_KEYS (the previous ones). Afterwards the old keys
 * are no longer needed and can be removed from the environment.
 */
import { loadConfig } from '../core/config.js';
import { isAppError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { resolveMasterKey } from '../core/master-key.js';
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { rotateMasterKey } from './rotation.js';
import { createVault } from './vault.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const db = await openDatabase({ url: config.database.url, poolSize: 2, dataDir: config.dataDir, logger });
  try {
    await migrate(db, logger);
    const vault = createVault(await resolveMasterKey(config.masterKey, config.dataDir, logger), config.oldMasterKeys);
    const report = await rotateMasterKey(db, vault);
    const lines = [
      `master key now: ${report.masterKeyId}`,
      ...Object.entries(report.rewrapped).map(([from, n]) => `re-wrapped ${n} key(s) from ${from}`),
      `total re-wrapped: ${report.total}`,
      report.retired.length > 0 ? `retired (no longer needed): ${report.retired.join(', ')}` : 'no old master key left to retire',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rotate-master-key: ${isAppError(err) ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
