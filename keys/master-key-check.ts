import { AppError } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { MasterKeysRepo } from '../db/repos/master-keys.js';
import { SEALED_TABLES } from './sealed-tables.js';
import type { Vault } from './vault.js';

const HOW_TO_FIX =
  'Set SAMOKODER_MASTER_KEY to the master key the secrets were sealed with; to change keys, set the new one in SAMOKODER_MASTER_KEY, ' +
  'put the old one in SAMOKODER_OLD_MASTER_KEYS and run `npm run rotate-master-key`.';

/**
 * Start-up check: every master key this database has seen must be one the server holds and must
 * verify, so a wrong SAMOKODER_MASTER_KEY stops the start with a clear message instead of
 * failing later on every decryption. Then the current key's verifier is recorded.
 */
export async function checkMasterKeys(db: Queryable, vault: Vault): Promise<void> {
  const masterKeys = new MasterKeysRepo(db);
  const unknown = new Map<string, number>();
  for (const row of await masterKeys.list()) {
    if (!vault.hasKey(row.keyId)) unknown.set(row.keyId, 0);
    else if (!vault.checkVerifier(row.keyId, row.verifier)) {
      throw new AppError('E_VAULT_MASTER_KEY', `The verifier of master key ${row.keyId} does not match the configured key. ${HOW_TO_FIX}`);
    }
  }
  for (const tableOn of SEALED_TABLES) {
    for (const [keyId, n] of await tableOn(db).countByMasterKey()) if (!vault.hasKey(keyId)) unknown.set(keyId, (unknown.get(keyId) ?? 0) + n);
  }
  if (unknown.size > 0) {
    const list = [...unknown].map(([id, n]) => `${id} (${n} stored secrets)`).join(', ');
    throw new AppError(
      'E_VAULT_MASTER_KEY',
      `Wrong master key: this database holds secrets sealed under ${list}, but the configured master key is ${vault.current.id}. ${HOW_TO_FIX}`,
    );
  }
  await masterKeys.ensure(vault.current.id, vault.makeVerifier());
}
