import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/port.js';
import { ApiKeysRepo, type ApiKeyInfo } from '../db/repos/api-keys.js';
import { maskSecret } from './mask.js';
import type { Vault } from './vault.js';

export interface NewUserKey {
  userId: string;
  provider: string;
  apiKey: string;
  label?: string | undefined;
  baseUrl?: string | undefined;
}

/** Seals a user's key (the row id is chosen first: it is part of the AAD) and stores only ciphertext. */
export async function storeUserKey(db: Queryable, vault: Vault, input: NewUserKey): Promise<ApiKeyInfo> {
  return new ApiKeysRepo(db).store(
    vault,
    { userId: input.userId, provider: input.provider },
    { id: randomUUID(), user_id: input.userId, provider: input.provider, label: input.label ?? null, base_url: input.baseUrl ?? null, masked: maskSecret(input.apiKey) },
    input.apiKey,
  );
}
