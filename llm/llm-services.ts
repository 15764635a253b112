import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { MasterKey } from '../core/master-key.js';
import type { Database } from '../db/port.js';
import { checkMasterKeys } from '../keys/master-key-check.js';
import { PlatformKeyPool } from '../keys/platform-pool.js';
import { createVault, type Vault } from '../keys/vault.js';
import { LlmGateway } from './llm-gateway.js';
import { PriceTable } from './prices.js';
import { UsageLedger } from '../usage/usage-ledger.js';

/** Reservations older than this belong to a process that died mid-call (calls time out far sooner). */
const STALE_RESERVATION_MS = 60 * 60_000;

export interface LlmServices {
  vault: Vault;
  keyPool: PlatformKeyPool;
  ledger: UsageLedger;
  gateway: LlmGateway;
  /** The price table the ledger prices calls with (run estimates price with it too). */
  prices: PriceTable;
}

/**
 * Builds the key vault, platform key pool, usage ledger and LLM gateway. Fails start-up with
 * E_VAULT_MASTER_KEY when the master key does not match the stored secrets.
 */
export async function createLlmServices(deps: { config: Config; db: Database; clock: Clock; logger: Logger; masterKey: MasterKey }): Promise<LlmServices> {
  const { config, db, clock, logger } = deps;
  const vault = createVault(deps.masterKey, config.oldMasterKeys);
  await checkMasterKeys(db, vault);
  const prices = await PriceTable.load(config.pricesFile);
  const ledger = new UsageLedger(db, prices, clock);
  const expired = await ledger.expireStale(STALE_RESERVATION_MS);
  if (expired > 0) logger.warn({ expired }, 'released usage reservations left by calls that never settled');
  const keyPool = await PlatformKeyPool.open(db, config.platformKeys, clock, logger);
  const gateway = new LlmGateway({
    db,
    vault,
    pool: keyPool,
    ledger,
    clock,
    logger,
    modelOptions: { baseUrls: config.llm.baseUrls, allowPrivateBaseUrls: config.llm.allowPrivateBaseUrls, timeoutMs: config.llm.timeoutMs, maxRetries: config.llm.maxRetries },
  });
  return { vault, keyPool, ledger, gateway, prices };
}
