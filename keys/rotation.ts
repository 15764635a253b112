import type { Database, Queryable } from '../db/port.js';
import { ApiKeysRepo } from '../db/repos/api-keys.js';
import { GitCredentialsRepo } from '../db/repos/git-credentials.js';
import { MasterKeysRepo } from '../db/repos/master-keys.js';
import { ProjectEnvRepo } from '../previews/env-repo.js';
import { envKeyId } from '../previews/project-env.js';
import { checkMasterKeys } from './master-key-check.js';
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
 * Re-wraps every stored secret's data key under the vault's current master key. Only the wrapped
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
  // BYOK keys, then git credentials: both are sealed the same way.
  for (const repoOf of [(tx: Queryable) => new ApiKeysRepo(tx), (tx: Queryable) => new GitCredentialsRepo(tx)]) {
    for (;;) {
      const done = await db.transaction(async (tx) => {
        const repo = repoOf(tx);
        const batch = await repo.lockBatchNotUnder(target, batchSize);
        for (const row of batch) {
          await repo.updateWrappedDek(row.id, row.masterKeyId, vault.rewrap(row, row.id));
          rewrapped[row.masterKeyId] = (rewrapped[row.masterKeyId] ?? 0) + 1;
        }
        return batch.length;
      });
      total += done;
      if (done < batchSize) break;
    }
  }
  // The projects' environment variables are sealed the same way (previews/project-env.ts).
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const repo = new ProjectEnvRepo(tx);
      const batch = await repo.lockBatchNotUnder(target, batchSize);
      for (const row of batch) {
        await repo.updateWrappedDek(row.projectId, row.name, row.sealed.masterKeyId, vault.rewrap(row.sealed, envKeyId(row.projectId, row.name)));
        rewrapped[row.sealed.masterKeyId] = (rewrapped[row.sealed.masterKeyId] ?? 0) + 1;
      }
      return batch.length;
    });
    total += done;
    if (done < batchSize) break;
  }
  const retired = await new MasterKeysRepo(db).deleteUnused(target);
  return { masterKeyId: target, rewrapped, total, retired };
}
