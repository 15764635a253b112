import { parseArgs } from 'node:util';
import { loadConfig } from '../../core/config.js';
import { isAppError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { rotateMasterKey } from '../../keys/rotation.js';
import { createVault } from '../../keys/vault.js';
import { openStorage } from '../../services/open-storage.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';

export const ROTATE_MASTER_KEY_HELP = `samokoder rotate-master-key

Re-wraps every stored key under SAMOKODER_MASTER_KEY (the new key), decrypting with
SAMOKODER_OLD_MASTER_KEYS (the previous ones), in the database the service's environment names.
Afterwards the old keys are no longer needed and can be removed from the environment.
Also: npm run rotate-master-key.
`;

export async function rotateMasterKeyCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(ROTATE_MASTER_KEY_HELP);
    return EXIT.OK;
  }
  try {
    const config = loadConfig(process.env);
    const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
    const storage = await openStorage(config, { logger, poolSize: 2 });
    try {
      const report = await rotateMasterKey(storage.db, createVault(storage.masterKey, config.oldMasterKeys));
      const lines = [
        `master key now: ${report.masterKeyId}`,
        ...Object.entries(report.rewrapped).map(([from, n]) => `re-wrapped ${n} key(s) from ${from}`),
        `total re-wrapped: ${report.total}`,
        report.retired.length > 0 ? `retired (no longer needed): ${report.retired.join(', ')}` : 'no old master key left to retire',
      ];
      process.stdout.write(lines.join('\n') + '\n');
      return EXIT.OK;
    } finally {
      await storage.close();
    }
  } catch (err) {
    if (isAppError(err)) throw new CliError(`rotate-master-key: ${err.message}`, err.code === 'E_CONFIG' ? EXIT.BAD_INPUT : EXIT.OTHER);
    throw err;
  }
}
