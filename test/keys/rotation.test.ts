import { checkMasterKeys } from '../../keys/master-key-check.js';
import { rotateMasterKey } from '../../keys/rotation.js';
import { storeUserKey } from '../../keys/user-keys.js';
import { Vault } from '../../keys/vault.js';
import { createLogger } from '../../core/logger.js';
import { ApiKeysRepo } from '../../db/repos/api-keys.js';
import { startServer } from '../../server/server.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';
import { createUser, fakeSecret, newMasterKey, newMasterKeyText } from './fixtures.js';

describe.each(DATABASE_KINDS)('master key rotation and start-up check on %s', (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  test('rotation re-wraps every row; every key still decrypts, afterwards without the old master key', async () => {
    const oldKey = newMasterKey();
    const oldVault = new Vault(oldKey);
    await checkMasterKeys(t.db, oldVault);
    const stored: { userId: string; id: string; provider: string; secret: string }[] = [];
    for (let u = 0; u < 3; u++) {
      const userId = await createUser(t.db);
      for (const provider of ['openai', 'anthropic', 'groq', 'openrouter']) {
        const secret = fakeSecret();
        const info = await storeUserKey(t.db, oldVault, { userId, provider, apiKey: secret });
        stored.push({ userId, id: info.id, provider, secret });
      }
    }
    const before = await t.db.query<{ id: string; ciphertext: Uint8Array }>('SELECT id, ciphertext FROM api_keys');

    const newKey = newMasterKey();
    // Without the old key the new one refuses to start: rows are under a key it does not hold.
    await expect(checkMasterKeys(t.db, new Vault(newKey))).rejects.toMatchObject({ code: 'E_VAULT_MASTER_KEY', message: expect.stringContaining(oldKey.id) });
    const report = await rotateMasterKey(t.db, new Vault(newKey, [oldKey]), { batchSize: 5 });
    expect(report).toMatchObject({ masterKeyId: newKey.id, total: 12, rewrapped: { [oldKey.id]: 12 }, retired: [oldKey.id] });

    const ids = await t.db.query<{ master_key_id: string }>('SELECT DISTINCT master_key_id FROM api_keys');
    expect(ids.rows).toEqual([{ master_key_id: newKey.id }]);
    // Only the wrapped data key changed.
    const after = await t.db.query<{ id: string; ciphertext: Uint8Array }>('SELECT id, ciphertext FROM api_keys');
    for (const row of before.rows) {
      expect(Buffer.from(after.rows.find((r) => r.id === row.id)!.ciphertext).equals(Buffer.from(row.ciphertext))).toBe(true);
    }
    const newOnly = new Vault(newKey);
    await checkMasterKeys(t.db, newOnly);
    const repo = new ApiKeysRepo(t.db);
    for (const s of stored) {
      const row = (await repo.getWithEnvelope(s.userId, s.id))!;
      expect(newOnly.open(row, { userId: s.userId, provider: s.provider, keyId: s.id })).toBe(s.secret);
    }
    // The old key alone is now refused, and a second rotation has nothing to do.
    await expect(checkMasterKeys(t.db, oldVault)).rejects.toMatchObject({ code: 'E_VAULT_MASTER_KEY' });
    expect((await rotateMasterKey(t.db, newOnly)).total).toBe(0);
  });

  test('a server started with a wrong master key fails with a clear error; the right one starts', async () => {
    const logger = createLogger({ level: 'silent' });
    const right = newMasterKeyText();
    const overrides = { PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: '/tmp/samokoder-rotation-test' };
    const first = await startServer({ env: {}, overrides: { ...overrides, SAMOKODER_MASTER_KEY: right }, db: t.db, logger });
    await storeUserKey(t.db, first.ctx.llm.vault, { userId: await createUser(t.db), provider: 'openai', apiKey: fakeSecret() });
    await first.stop();

    await expect(startServer({ env: {}, overrides: { ...overrides, SAMOKODER_MASTER_KEY: newMasterKeyText() }, db: t.db, logger })).rejects.toMatchObject({
      code: 'E_VAULT_MASTER_KEY',
      message: expect.stringMatching(/Wrong master key.*Set SAMOKODER_MASTER_KEY/),
    });
    const again = await startServer({ env: {}, overrides: { ...overrides, SAMOKODER_MASTER_KEY: right }, db: t.db, logger });
    await again.stop();
  });
});
