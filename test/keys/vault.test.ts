import { maskSecret } from '../../keys/mask.js';
import { Vault, createVault } from '../../keys/vault.js';
import { fakeSecret, newMasterKey, newMasterKeyText } from './fixtures.js';

const binding = { userId: '11111111-1111-4111-8111-111111111111', provider: 'openai', keyId: '22222222-2222-4222-8222-222222222222' };

describe('vault (envelope encryption)', () => {
  const vault = new Vault(newMasterKey());

  test('a sealed secret opens to the same plaintext; the sealed form does not contain it', () => {
    const secret = fakeSecret();
    const sealed = vault.seal(secret, binding);
    expect(vault.open(sealed, binding)).toBe(secret);
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.authTag).toHaveLength(16);
    expect(sealed.dekIv).toHaveLength(12);
    expect(sealed.dekAuthTag).toHaveLength(16);
    expect(sealed.masterKeyId).toBe(vault.current.id);
    for (const b of [sealed.ciphertext, sealed.wrappedDek]) {
      expect(b.toString('utf8')).not.toContain(secret);
      expect(b.toString('latin1')).not.toContain(secret.slice(3, 20));
    }
    // Two seals of the same secret share nothing (fresh data key and IVs).
    const again = vault.seal(secret, binding);
    expect(again.ciphertext.equals(sealed.ciphertext)).toBe(false);
    expect(again.wrappedDek.equals(sealed.wrappedDek)).toBe(false);
  });

  test.each([
    ['another user', { ...binding, userId: '33333333-3333-4333-8333-333333333333' }],
    ['another provider', { ...binding, provider: 'anthropic' }],
    ['another key id', { ...binding, keyId: '44444444-4444-4444-8444-444444444444' }],
  ])('a changed AAD (%s) does not decrypt', (_what, other) => {
    const sealed = vault.seal(fakeSecret(), binding);
    expect(() => vault.open(sealed, other)).toThrow(expect.objectContaining({ code: 'E_VAULT_MASTER_KEY' }));
  });

  test('tampered ciphertext, tag, IV or wrapped data key, and a truncated tag, do not decrypt', () => {
    const sealed = vault.seal(fakeSecret(), binding);
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[0] = c[0]! ^ 0x01;
      return c;
    };
    expect(() => vault.open({ ...sealed, ciphertext: flip(sealed.ciphertext) }, binding)).toThrow();
    expect(() => vault.open({ ...sealed, authTag: flip(sealed.authTag) }, binding)).toThrow();
    expect(() => vault.open({ ...sealed, iv: flip(sealed.iv) }, binding)).toThrow();
    expect(() => vault.open({ ...sealed, wrappedDek: flip(sealed.wrappedDek) }, binding)).toThrow();
    expect(() => vault.open({ ...sealed, dekAuthTag: flip(sealed.dekAuthTag) }, binding)).toThrow();
    expect(() => vault.open({ ...sealed, authTag: sealed.authTag.subarray(0, 12) }, binding)).toThrow();
  });

  test('another master key cannot open it; an old key still can until the data key is re-wrapped', () => {
    const secret = fakeSecret();
    const sealed = vault.seal(secret, binding);
    const stranger = new Vault(newMasterKey());
    expect(() => stranger.open(sealed, binding)).toThrow(/not configured/);
    // The same id with different key bytes (a forged id) fails authentication.
    const forged = new Vault({ id: vault.current.id, key: newMasterKey().key });
    expect(() => forged.open(sealed, binding)).toThrow(/does not decrypt/);

    const rotated = new Vault(newMasterKey(), [vault.current]);
    expect(rotated.open(sealed, binding)).toBe(secret);
    const rewrapped = { ...sealed, ...rotated.rewrap(sealed, binding.keyId) };
    expect(rewrapped.masterKeyId).toBe(rotated.current.id);
    expect(rewrapped.ciphertext.equals(sealed.ciphertext)).toBe(true);
    expect(new Vault(rotated.current).open(rewrapped, binding)).toBe(secret);
  });

  test('verifiers tell the right master key from a wrong one', () => {
    const v = vault.makeVerifier();
    expect(vault.checkVerifier(vault.current.id, v)).toBe(true);
    expect(new Vault({ id: vault.current.id, key: newMasterKey().key }).checkVerifier(vault.current.id, v)).toBe(false);
    expect(new Vault(newMasterKey()).checkVerifier(vault.current.id, v)).toBe(false);
  });

  test('SAMOKODER_OLD_MASTER_KEYS entries are parsed and named in errors', () => {
    const old = newMasterKeyText();
    expect(createVault(newMasterKey(), [old]).knownKeyIds).toHaveLength(2);
    expect(() => createVault(newMasterKey(), ['short'])).toThrow(/SAMOKODER_OLD_MASTER_KEYS \(entry 1\)/);
  });

  test('masking keeps a short known prefix and the last four characters', () => {
    expect(maskSecret('sk-proj-abcdefghijklmnop1234')).toBe('sk-…1234');
    expect(maskSecret('sk-ant-api03-abcdefghijklmnopqrstuvwxyzWXYZ')).toBe('sk-…WXYZ');
    expect(maskSecret('gsk_abcdefghijklmnopqrstuv9876')).toBe('gsk_…9876');
    expect(maskSecret('abcdefghijklmnopqrstuvwxyz')).toBe('…wxyz');
    expect(maskSecret('short')).toBe('…');
  });
});
