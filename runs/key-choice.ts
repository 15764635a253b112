import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { ApiKeysRepo } from '../db/repos/api-keys.js';
import { PlansRepo } from '../db/repos/plans.js';
import type { User } from '../db/repos/users.js';
import type { ProviderId } from '../llm/providers/port.js';
import type { KeySource } from '../keys/key-source.js';

export interface KeyChoice {
  keyId: string | null;
  keySource: KeySource;
}

/**
 * Which key pays for a run: the given BYOK key (enqueueRun checks it is the caller's); else
 * platform keys when the plan allows them and the operator configured some for the provider;
 * else the caller's newest key for the provider; else E_NO_KEY saying what to add.
 */
export async function chooseKey(
  db: Queryable,
  platformKeys: Config['platformKeys'],
  user: User,
  provider: ProviderId,
  keyId: string | undefined,
): Promise<KeyChoice> {
  if (keyId) return { keyId, keySource: 'byok' };
  const plan = await new PlansRepo(db).get(user.planId);
  const platform = provider === 'openai-compatible' ? [] : platformKeys[provider];
  if (plan?.platformKeysAllowed && platform.length > 0) return { keyId: null, keySource: 'platform' };
  const newest = await new ApiKeysRepo(db).newestIdFor(user.id, provider);
  if (newest) return { keyId: newest, keySource: 'byok' };
  const why = plan?.platformKeysAllowed ? `no platform key for ${provider} is configured on this server` : `the ${plan?.name ?? user.planId} plan does not include platform keys`;
  throw new AppError('E_NO_KEY', `No API key for ${provider}: ${why}. Add your key with POST /api/user/api-keys (or pass keyId).`, { details: { provider } });
}
