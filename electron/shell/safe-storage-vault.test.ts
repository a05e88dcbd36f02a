import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafeStorageVault, type SafeStoragePort } from './safe-storage-vault';

type Backend = ReturnType<NonNullable<SafeStoragePort['getSelectedStorageBackend']>>;

/** A stand-in for Electron's safeStorage: XOR "encryption", switchable availability. */
class FakeSafeStorage implements SafeStoragePort {
  available = true;
  backend: Backend = 'gnome_libsecret';
  isEncryptionAvailable(): boolean {
    return this.available;
  }
  getSelectedStorageBackend(): Backend {
    return this.backend;
  }
  encryptString(plain: string): Buffer {
    if (!this.available) throw new Error('Encryption is not available.');
    return Buffer.from(Buffer.from(plain, 'utf8').map((b) => b ^ 0x5a));
  }
  decryptString(encrypted: Buffer): string {
    if (!this.available) throw new Error('Decryption is not available.');
    return Buffer.from(encrypted.map((b) => b ^ 0x5a)).toString('utf8');
  }
}

let dir: string;
let fake: FakeSafeStorage;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-safe-vault-'));
  fake = new FakeSafeStorage();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const secret = Buffer.from([0, 1, 2, 250, 251, 255, 10, 13]);

describe('SafeStorageVault', () => {
  it('stores secrets encrypted by the OS, in private files, and reads them back', async () => {
    const vault = new SafeStorageVault({ dir, safeStorage: fake, platform: 'linux' });
    expect(vault.protection).toBe('os');
    expect(await vault.read('install-key')).toBeNull();
    await vault.write('install-key', secret);
    expect(await vault.read('install-key')).toEqual(secret);
    const onDisk = await readFile(join(dir, 'install-key.key'));
    expect(onDisk.includes(secret.toString('base64'))).toBe(false);
    expect(
      execFileSync('stat', ['-c', '%a', join(dir, 'install-key.key')])
        .toString()
        .trim(),
    ).toBe('600');
    expect(await readdir(dir)).toEqual(['install-key.key']);
  });

  it.each(['basic_text', 'unknown'] as const)(
    "refuses on Linux with the '%s' backend unless the owner accepted plaintext",
    async (backend) => {
      fake.backend = backend;
      const vault = new SafeStorageVault({ dir, safeStorage: fake, platform: 'linux' });
      expect(vault.protection).toBe('file');
      await expect(vault.write('install-key', secret)).rejects.toMatchObject({
        code: 'KEY_VAULT_UNAVAILABLE',
      });
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('refuses when encryption is unavailable, on any platform', async () => {
    fake.available = false;
    const vault = new SafeStorageVault({ dir, safeStorage: fake, platform: 'darwin' });
    await expect(vault.write('a', secret)).rejects.toMatchObject({ code: 'KEY_VAULT_UNAVAILABLE' });
  });

  it('does not ask for the Linux backend elsewhere', async () => {
    const { getSelectedStorageBackend: _, ...withoutBackend } = {
      isEncryptionAvailable: () => true,
      encryptString: (s: string) => Buffer.from(s),
      decryptString: (b: Buffer) => b.toString(),
      getSelectedStorageBackend: undefined,
    };
    const vault = new SafeStorageVault({ dir, safeStorage: withoutBackend, platform: 'win32' });
    expect(vault.protection).toBe('os');
    await vault.write('a', secret);
    expect(await vault.read('a')).toEqual(secret);
  });

  it('keeps secrets as plain private files when the owner accepted it, and says so', async () => {
    fake.backend = 'basic_text';
    const vault = new SafeStorageVault({
      dir,
      safeStorage: fake,
      platform: 'linux',
      allowPlaintext: true,
    });
    expect(vault.protection).toBe('file');
    await vault.write('a', secret);
    expect(await vault.read('a')).toEqual(secret);
    // Once a keyring appears, the secret is encrypted on its next read.
    fake.backend = 'kwallet6';
    expect(await vault.read('a')).toEqual(secret);
    const onDisk = await readFile(join(dir, 'a.key'));
    expect(onDisk.toString('latin1').startsWith('hearth-vault/1 os\n')).toBe(true);
  });

  it('asks at each write whether the owner has accepted a key without a keyring', async () => {
    fake.backend = 'basic_text';
    let accepted = false;
    const vault = new SafeStorageVault({
      dir,
      safeStorage: fake,
      platform: 'linux',
      allowPlaintext: () => Promise.resolve(accepted),
    });
    await expect(vault.write('a', secret)).rejects.toMatchObject({ code: 'KEY_VAULT_UNAVAILABLE' });
    accepted = true;
    await vault.write('a', secret);
    expect(await vault.read('a')).toEqual(secret);
  });

  it('never falls back to something weaker when an encrypted secret cannot be read', async () => {
    const vault = new SafeStorageVault({
      dir,
      safeStorage: fake,
      platform: 'linux',
      allowPlaintext: true,
    });
    await vault.write('a', secret);
    fake.available = false;
    await expect(vault.read('a')).rejects.toMatchObject({ code: 'KEY_VAULT_UNAVAILABLE' });
    fake.available = true;
    fake.decryptString = () => {
      throw new Error(
        'Error while decrypting the ciphertext provided to safeStorage.decryptString.',
      );
    };
    await expect(vault.read('a')).rejects.toMatchObject({ code: 'KEY_VAULT_UNAVAILABLE' });
  });

  it('treats a file it did not write as damaged', async () => {
    await writeFile(join(dir, 'a.key'), 'something else');
    const vault = new SafeStorageVault({ dir, safeStorage: fake, platform: 'linux' });
    await expect(vault.read('a')).rejects.toMatchObject({ code: 'KEY_VAULT_UNAVAILABLE' });
  });

  it('validates names before encrypting anything', async () => {
    let encrypted = 0;
    const counting = Object.assign(new FakeSafeStorage(), {
      encryptString: (s: string) => (encrypted++, Buffer.from(s)),
    });
    const vault = new SafeStorageVault({ dir, safeStorage: counting, platform: 'linux' });
    await expect(vault.write('../x', secret)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(encrypted).toBe(0);
  });
});
