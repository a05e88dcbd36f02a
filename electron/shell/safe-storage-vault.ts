// The app's key vault: secrets encrypted by the OS keyring through Electron's safeStorage
// (Keychain, DPAPI, libsecret/KWallet), stored as private files like the file vault.
// On Linux without a keyring safeStorage falls back to 'basic_text', a fixed key that
// protects nothing: Hearth then refuses (KEY_VAULT_UNAVAILABLE) unless the owner accepted
// storing secrets protected only by file permissions, and says so ('file').
import type { SafeStorage } from 'electron';
import { HearthError } from '../../shared/errors';
import type { KeyVault } from '../services/keys/key-vault';
import { PrivateFiles } from '../services/keys/private-files';

/** The part of Electron's safeStorage the vault uses, so tests can pass a fake. */
export type SafeStoragePort = Pick<
  SafeStorage,
  'isEncryptionAvailable' | 'encryptString' | 'decryptString'
> &
  Partial<Pick<SafeStorage, 'getSelectedStorageBackend'>>;

export interface SafeStorageVaultOptions {
  dir: string;
  safeStorage: SafeStoragePort;
  /** The owner accepted keeping secrets without OS encryption when none is available. */
  allowPlaintext?: boolean | (() => Promise<boolean>);
  platform?: NodeJS.Platform;
}

// Each file starts with what protects it, so a later run knows how to read it back.
const ENCRYPTED = Buffer.from('hearth-vault/1 os\n');
const PLAIN = Buffer.from('hearth-vault/1 plain\n');

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

export class SafeStorageVault implements KeyVault {
  readonly #files: PrivateFiles;
  readonly #safeStorage: SafeStoragePort;
  readonly #allowPlaintext: () => Promise<boolean>;
  readonly #platform: NodeJS.Platform;

  constructor(options: SafeStorageVaultOptions) {
    this.#files = new PrivateFiles(options.dir);
    this.#safeStorage = options.safeStorage;
    // Asked at each write: the owner can agree while Hearth runs (in the setup wizard).
    const allow = options.allowPlaintext ?? false;
    this.#allowPlaintext = typeof allow === 'function' ? allow : () => Promise.resolve(allow);
    this.#platform = options.platform ?? process.platform;
  }

  /** Asked each time: the keyring can become available (or locked) while Hearth runs. */
  get protection(): 'os' | 'file' {
    return this.#osEncryption() ? 'os' : 'file';
  }

  async read(name: string): Promise<Buffer | null> {
    const stored = await this.#files.read(name);
    if (stored === null) return null;
    if (startsWith(stored, PLAIN)) {
      const secret = stored.subarray(PLAIN.length);
      // Stored while no keyring was available; encrypt it now that one is.
      if (this.#osEncryption()) await this.write(name, secret);
      return secret;
    }
    if (!startsWith(stored, ENCRYPTED)) throw new HearthError('KEY_VAULT_UNAVAILABLE');
    if (!this.#safeStorage.isEncryptionAvailable()) throw new HearthError('KEY_VAULT_UNAVAILABLE');
    try {
      const base64 = this.#safeStorage.decryptString(stored.subarray(ENCRYPTED.length));
      return Buffer.from(base64, 'base64');
    } catch (error) {
      // A different keyring, or a locked one: never fall back to anything weaker.
      throw new HearthError('KEY_VAULT_UNAVAILABLE', undefined, { cause: error });
    }
  }

  async write(name: string, secret: Buffer): Promise<void> {
    this.#files.path(name); // validates the name before any encryption happens
    if (this.#osEncryption()) {
      let encrypted: Buffer;
      try {
        // safeStorage encrypts strings; base64 keeps any bytes intact.
        encrypted = this.#safeStorage.encryptString(secret.toString('base64'));
      } catch (error) {
        throw new HearthError('KEY_VAULT_UNAVAILABLE', undefined, { cause: error });
      }
      return this.#files.write(name, Buffer.concat([ENCRYPTED, encrypted]));
    }
    if (!(await this.#allowPlaintext())) throw new HearthError('KEY_VAULT_UNAVAILABLE');
    return this.#files.write(name, Buffer.concat([PLAIN, secret]));
  }

  #osEncryption(): boolean {
    if (!this.#safeStorage.isEncryptionAvailable()) return false;
    if (this.#platform !== 'linux') return true;
    const backend = this.#safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    return backend !== 'basic_text' && backend !== 'unknown';
  }
}
