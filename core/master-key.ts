import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';

export interface MasterKey {
  /** A short, non-secret fingerprint stored next to every secret it wraps (for rotation). */
  id: string;
  key: Buffer;
}

/** Accepts 32 bytes as 64 hex characters or as base64 (44 characters). */
export function parseMasterKey(text: string, source: string): MasterKey {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (bytes.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(t) && bytes.toString('base64') !== t)) {
    throw new AppError(
      'E_CONFIG',
      `${source} must be 32 random bytes as 64 hex characters or base64 (generate one with: openssl rand -base64 32).`,
    );
  }
  return { id: 'mk_' + createHash('sha256').update(bytes).digest('hex').slice(0, 12), key: bytes };
}

/**
 * The master key from SAMOKODER_MASTER_KEY, or, when that is unset, from `<dataDir>/master.key`,
 * generated there (mode 0600) on first start. The generated file is fine for a laptop; a
 * deployment sets the variable from its secret store, because whoever can read the data dir
 * could otherwise decrypt every stored key.
 */
export async function resolveMasterKey(configured: string | undefined, dataDir: string, logger: Logger): Promise<MasterKey> {
  if (configured) return parseMasterKey(configured, 'SAMOKODER_MASTER_KEY');
  const file = path.join(dataDir, 'master.key');
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined) {
    logger.warn({ file }, 'SAMOKODER_MASTER_KEY is not set; using the master key stored in the data directory');
    return parseMasterKey(existing, file);
  }
  await mkdir(dataDir, { recursive: true });
  const generated = randomBytes(32).toString('base64');
  // 'wx' fails if another process created the file in the meantime; then that file wins.
  await writeFile(file, generated + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  logger.warn(
    { file },
    'SAMOKODER_MASTER_KEY is not set; generated a master key in the data directory. Set SAMOKODER_MASTER_KEY in production and keep it secret.',
  );
  return parseMasterKey(await readFile(file, 'utf8'), file);
}
