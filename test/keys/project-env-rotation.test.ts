import { ProjectsRepo } from '../../db/repos/projects.js';
import { checkMasterKeys } from '../../keys/master-key-check.js';
import { rotateMasterKey } from '../../keys/rotation.js';
import { Vault } from '../../keys/vault.js';
import { ProjectEnv } from '../../previews/project-env.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { createUser, dumpDatabase, fakeSecret, newMasterKey } from './fixtures.js';

describe('project environment variables are sealed like API keys, checked at start-up and rotated', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('only ciphertext is stored; a value set again is replaced; the start-up check sees them; rotation re-wraps them', async () => {
    const oldKey = newMasterKey();
    const oldVault = new Vault(oldKey);
    await checkMasterKeys(t.db, oldVault);
    const userId = await createUser(t.db);
    const project = await new ProjectsRepo(t.db).create({ userId, name: 'p', prompt: 'p' });
    const [first, db, stripe] = [fakeSecret('postgres://'), fakeSecret('postgres://'), fakeSecret('sk_live_')];
    await new ProjectEnv(t.db, oldVault).update(userId, project.id, { DATABASE_URL: first, STRIPE_KEY: stripe });
    const names = await new ProjectEnv(t.db, oldVault).update(userId, project.id, { DATABASE_URL: db });
    expect(names.map((n) => n.name)).toEqual(['DATABASE_URL', 'STRIPE_KEY']);
    const dump = await dumpDatabase(t.db);
    for (const value of [first, db, stripe]) expect(dump).not.toContain(value);

    // Only project variables are stored: the start-up check still refuses a key that does not hold them.
    const newKey = newMasterKey();
    await expect(checkMasterKeys(t.db, new Vault(newKey))).rejects.toMatchObject({ code: 'E_VAULT_MASTER_KEY', message: expect.stringContaining(`${oldKey.id} (2 stored secrets)`) });
    const report = await rotateMasterKey(t.db, new Vault(newKey, [oldKey]), { batchSize: 1 });
    expect(report).toMatchObject({ masterKeyId: newKey.id, total: 2, rewrapped: { [oldKey.id]: 2 }, retired: [oldKey.id] });

    const newOnly = new Vault(newKey);
    await checkMasterKeys(t.db, newOnly);
    expect(await new ProjectEnv(t.db, newOnly).open(userId, project.id)).toEqual({ DATABASE_URL: db, STRIPE_KEY: stripe });
    // Sealed to the project's owner: opened for another user, it does not decrypt.
    await expect(new ProjectEnv(t.db, newOnly).open(await createUser(t.db), project.id)).rejects.toMatchObject({ code: 'E_VAULT_MASTER_KEY' });
  });
});
