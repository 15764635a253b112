import type { Database } from '../db/port.js';
import { MasterKeysRepo } from '../db/repos/master-keys.js';
import { checkMasterKeys } from './master-key-check.js';
import { SEALED_TABLES } from './sealed-tables.js';
import type { Vault } from './vault.js';

export interface RotationReport {
  /** The master key every row is under afterwards. */
  masterKeyId: string;
  /** Rows re-wrapped, by the master key they were under before. */
  rewrapped: Record<string, number>;
  total: number;
  /** Old master keys no row uses any more: their verifiers were removed, they are no longer needed. */
  retired: string[];
}

/**
 * Re-wraps every stored secret's data key (every table of keys/sealed-tables.ts) under the vault's current master key. Only the wrapped
 * data key changes (the secret's own ciphertext stays), batch by batch, each batch in one
 * transaction with its rows locked, so a concurrent second rotation or a crash leaves every row
 * consistently under one key or the other; running it again finishes the job.
 */
export async function rotateMasterKey(db: Database, vault: Vault, options: { batchSize?: number } = {}): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 100;
  const target = vault.current.id;
  // Fails before touching anything if some row is under a master key we were not given.
  await checkMasterKeys(db, vault);
  const rewrapped: Record<string, number> = {};
  let total = 0;
  for (const tableOn of SEALED_TABLES) {
    for (;;) {
      const done = await db.transaction(async (tx) => {
        const repo = tableOn(tx);
        const batch = await repo.lockBatchNotUnder(target, batchSize);
        for (const row of batch) {
          await repo.rewrap(vault, row);
          rewrapped[row.sealed.masterKeyId] = (rewrapped[row.sealed.masterKeyId] ?? 0) + 1;
        }
        return batch.length;
      });
      total += done;
      if (done < batchSize) break;
    }
  }
  const retired = await new MasterKeysRepo(db).deleteUnused(target);
  return { masterKeyId: target, rewrapped, total, retired };
}
