import { openGitCredential, storeGitCredential } from '../../keys/git-credentials.js';
import { checkMasterKeys } from '../../keys/master-key-check.js';
import { rotateMasterKey } from '../../keys/rotation.js';
import { Vault } from '../../keys/vault.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { createUser, newMasterKey } from './fixtures.js';

describe('git credentials are sealed like API keys, checked at start-up and rotated', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('stored as ciphertext only; bound to the owner; re-wrapped by rotation; the old key then retires', async () => {
    const oldKey = newMasterKey();
    const oldVault = new Vault(oldKey);
    await checkMasterKeys(t.db, oldVault);
    const owner = await createUser(t.db);
    const other = await createUser(t.db);
    const token = 'ghp_rotationTokenSecret000111222';
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n';
    const tok = await storeGitCredential(t.db, oldVault, { userId: owner, kind: 'token', secret: token, username: 'oauth2' });
    const ssh = await storeGitCredential(t.db, oldVault, { userId: owner, kind: 'ssh-key', secret: key });
    expect(tok.masked).toBe('ghp_…1222');
    expect(ssh.masked).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ');
    const dump = (await t.db.query<{ j: string }>('SELECT to_jsonb(g)::text AS j FROM git_credentials g')).rows.map((r) => r.j).join('\n');
    expect(dump).not.toContain(token);
    expect(dump).not.toContain('b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ');
    await expect(openGitCredential(t.db, oldVault, other, tok.id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });

    const newKey = newMasterKey();
    await expect(checkMasterKeys(t.db, new Vault(newKey))).rejects.toMatchObject({ code: 'E_VAULT_MASTER_KEY', message: expect.stringContaining(oldKey.id) });
    const report = await rotateMasterKey(t.db, new Vault(newKey, [oldKey]));
    expect(report).toMatchObject({ total: 2, rewrapped: { [oldKey.id]: 2 }, retired: [oldKey.id] });
    const newOnly = new Vault(newKey);
    await checkMasterKeys(t.db, newOnly);
    expect(await openGitCredential(t.db, newOnly, owner, tok.id)).toEqual({ kind: 'token', username: 'oauth2', secret: token });
    expect((await openGitCredential(t.db, newOnly, owner, ssh.id)).secret).toBe(key);
  });
});
