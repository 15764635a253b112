import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { parseMasterKey, type MasterKey } from '../core/master-key.js';

/**
 * Envelope encryption for stored secrets (BYOK keys), with node:crypto only.
 *
 * Each secret gets its own random 32-byte data key (DEK). The secret is sealed with the DEK
 * (AES-256-GCM, 12-byte random IV, 16-byte tag) with AAD binding it to its owner, provider and
 * row id, so a ciphertext copied into another row or user does not decrypt. The DEK is sealed
 * with the master key (AES-256-GCM again, AAD = row id + master key id), and the master key's id
 * is stored with the row: rotation re-wraps only the DEK, and rows still under an old master key
 * decrypt while that key is configured in SAMOKODER_OLD_MASTER_KEYS.
 */

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERIFIER_PLAINTEXT = 'samokoder master key verifier v1';

/** What identifies a secret: any change makes decryption fail. */
export interface SecretBinding {
  userId: string;
  provider: string;
  /** Which row: its binding id (keys/sealed-secrets.ts SealedTable.bindingId, e.g. api_keys.id). */
  keyId: string;
}

export interface WrappedDataKey {
  wrappedDek: Buffer;
  dekIv: Buffer;
  dekAuthTag: Buffer;
  masterKeyId: string;
}

export interface SealedSecret extends WrappedDataKey {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/** Throws on any mismatch (key, AAD, IV, tag or ciphertext); the caller turns that into its error. */
function open(key: Buffer, sealed: Sealed, aad: string): Buffer {
  // A truncated tag would weaken GCM's authentication: only the pinned length is accepted.
  if (sealed.iv.length !== IV_BYTES || sealed.authTag.length !== TAG_BYTES) throw new Error('bad IV or tag length');
  const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.authTag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

const secretAad = (b: SecretBinding) => JSON.stringify(['secret', b.userId, b.provider, b.keyId]);
const dekAad = (keyId: string, masterKeyId: string) => JSON.stringify(['dek', keyId, masterKeyId]);
const verifierAad = (masterKeyId: string) => JSON.stringify(['verifier', masterKeyId]);

/** Raised when a secret does not decrypt; never carries any part of the secret. */
export class VaultDecryptError extends AppError {
  constructor(message: string) {
    super('E_VAULT_MASTER_KEY', message);
  }
}

export class Vault {
  private readonly keys = new Map<string, Buffer>();

  /**
   * @param current seals new secrets and is the target of rotation
   * @param old previous master keys: still accepted for decryption until rotation
   */
  constructor(
    readonly current: MasterKey,
    old: readonly MasterKey[] = [],
  ) {
    for (const k of old) this.keys.set(k.id, k.key);
    this.keys.set(current.id, current.key);
  }

  /** The ids of every master key this vault can decrypt with. */
  get knownKeyIds(): string[] {
    return [...this.keys.keys()];
  }

  hasKey(masterKeyId: string): boolean {
    return this.keys.has(masterKeyId);
  }

  seal(plaintext: string, binding: SecretBinding): SealedSecret {
    const dek = randomBytes(32);
    try {
      const secret = seal(dek, Buffer.from(plaintext, 'utf8'), secretAad(binding));
      return { ...secret, ...this.wrap(dek, binding.keyId) };
    } finally {
      dek.fill(0);
    }
  }

  open(sealed: SealedSecret, binding: SecretBinding): string {
    const dek = this.unwrap(sealed, binding.keyId);
    try {
      return open(dek, sealed, secretAad(binding)).toString('utf8');
    } catch {
      throw new VaultDecryptError(`The stored ${binding.provider} key ${binding.keyId} does not decrypt (it was altered or moved).`);
    } finally {
      dek.fill(0);
    }
  }

  /** The same data key, wrapped under the current master key: the secret's ciphertext is untouched. */
  rewrap(sealed: WrappedDataKey, keyId: string): WrappedDataKey {
    const dek = this.unwrap(sealed, keyId);
    try {
      return this.wrap(dek, keyId);
    } finally {
      dek.fill(0);
    }
  }

  /** A known constant sealed under the current master key: lets start-up tell a wrong key from a right one. */
  makeVerifier(): Buffer {
    const s = seal(this.current.key, Buffer.from(VERIFIER_PLAINTEXT), verifierAad(this.current.id));
    return Buffer.concat([s.iv, s.authTag, s.ciphertext]);
  }

  /** True when `verifier` was made by the master key `masterKeyId` this vault holds. */
  checkVerifier(masterKeyId: string, verifier: Buffer): boolean {
    const key = this.keys.get(masterKeyId);
    if (!key) return false;
    try {
      const sealed = { iv: verifier.subarray(0, IV_BYTES), authTag: verifier.subarray(IV_BYTES, IV_BYTES + TAG_BYTES), ciphertext: verifier.subarray(IV_BYTES + TAG_BYTES) };
      return open(key, sealed, verifierAad(masterKeyId)).toString() === VERIFIER_PLAINTEXT;
    } catch {
      return false;
    }
  }

  private wrap(dek: Buffer, keyId: string): WrappedDataKey {
    const s = seal(this.current.key, dek, dekAad(keyId, this.current.id));
    return { wrappedDek: s.ciphertext, dekIv: s.iv, dekAuthTag: s.authTag, masterKeyId: this.current.id };
  }

  private unwrap(sealed: WrappedDataKey, keyId: string): Buffer {
    const key = this.keys.get(sealed.masterKeyId);
    if (!key) {
      throw new VaultDecryptError(
        `The key ${keyId} is sealed under master key ${sealed.masterKeyId}, which is not configured. Set SAMOKODER_MASTER_KEY or add it to SAMOKODER_OLD_MASTER_KEYS.`,
      );
    }
    try {
      return open(key, { ciphertext: sealed.wrappedDek, iv: sealed.dekIv, authTag: sealed.dekAuthTag }, dekAad(keyId, sealed.masterKeyId));
    } catch {
      throw new VaultDecryptError(`The data key of ${keyId} does not decrypt under master key ${sealed.masterKeyId} (altered row or wrong master key).`);
    }
  }
}

/** The vault for a configuration: the resolved current master key plus SAMOKODER_OLD_MASTER_KEYS. */
export function createVault(current: MasterKey, oldMasterKeys: readonly string[]): Vault {
  return new Vault(
    current,
    oldMasterKeys.map((text, i) => parseMasterKey(text, `SAMOKODER_OLD_MASTER_KEYS (entry ${i + 1})`)),
  );
}
