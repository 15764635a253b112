import type { Queryable } from '../db/port.js';
import { ApiKeysRepo } from '../db/repos/api-keys.js';
import { GitCredentialsRepo } from '../db/repos/git-credentials.js';
import { ProjectEnvRepo } from '../previews/env-repo.js';
import type { SealedSecrets } from './sealed-secrets.js';

/** What master-key rotation and the start-up check do to any table of sealed secrets. */
export type SealedTableOps = Pick<SealedSecrets<object, unknown>, 'countByMasterKey' | 'lockBatchNotUnder' | 'rewrap'>;

/** Every table of sealed secrets, on a connection: a new one is added here, so rotation and the start-up check cover it. */
export const SEALED_TABLES: readonly ((db: Queryable) => SealedTableOps)[] = [
  (db) => new ApiKeysRepo(db),
  (db) => new GitCredentialsRepo(db),
  (db) => new ProjectEnvRepo(db),
];
