import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeSshDevice } from '../ssh/fake-ssh-device';
import { connectSsh } from '../ssh/ssh-connect';
import { FileKeyVault } from './file-key-vault';
import { INSTALL_KEY_NAME, ensureInstallKey } from './install-key';
import type { KeyVault } from './key-vault';

let dir: string;
let device: FakeSshDevice | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-install-key-'));
});
afterEach(async () => {
  await device?.stop();
  device = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('ensureInstallKey', () => {
  it('makes one ed25519 key and gives the same one on every later call', async () => {
    const first = await ensureInstallKey(new FileKeyVault(dir));
    expect(first.privateKey).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(first.publicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ hearth@\S+$/);
    expect(first.publicKey.endsWith(`hearth@${hostname().replace(/[^A-Za-z0-9._-]/g, '')}`)).toBe(
      true,
    );
    // A new vault object over the same folder: a later run of the app.
    const again = await ensureInstallKey(new FileKeyVault(dir));
    expect(again).toEqual(first);
  });

  it('stores only the private key, and its fingerprint matches ssh-keygen', async () => {
    const key = await ensureInstallKey(new FileKeyVault(dir));
    const stored = await new FileKeyVault(dir).read(INSTALL_KEY_NAME);
    expect(stored?.toString()).toBe(key.privateKey);
    const pub = join(dir, 'check.pub');
    await writeFile(pub, `${key.publicKey}\n`);
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub])
      .toString()
      .split(' ')[1];
    expect(key.fingerprint).toBe(printed);
    // ssh-keygen derives the same public key from the stored private key.
    const priv = join(dir, 'check');
    await writeFile(priv, key.privateKey, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', priv]).toString().trim();
    expect(derived.split(' ').slice(0, 2)).toEqual(key.publicKey.split(' ').slice(0, 2));
  });

  it('gives concurrent callers one key, not two', async () => {
    const vault = new FileKeyVault(dir);
    const [a, b] = await Promise.all([ensureInstallKey(vault), ensureInstallKey(vault)]);
    expect(a).toEqual(b);
  });

  it('signs in to a device that holds the public key', async () => {
    const key = await ensureInstallKey(new FileKeyVault(dir));
    device = await FakeSshDevice.start({ username: 'hearth', authorizedKeys: [key.publicKey] });
    const session = await connectSsh({
      host: '127.0.0.1',
      port: device.port,
      username: 'hearth',
      auth: { privateKey: key.privateKey },
      hostKey: { kind: 'pinned', fingerprint: device.hostKeyFingerprint },
    });
    expect((await session.exec('echo hi')).stdout).toBe('hi\n');
    session.close();
    await session.closed;
    const methods = device.authAttempts.map((a) => a.method);
    expect(methods).toContain('publickey');
    expect(methods).not.toContain('password');
  });

  it('tries again after a vault failure instead of remembering it', async () => {
    let fail = true;
    const inner = new FileKeyVault(dir);
    const flaky: KeyVault = {
      protection: 'os',
      read: async (name) => {
        if (fail) throw new Error('keyring locked');
        return inner.read(name);
      },
      write: (name, secret) => inner.write(name, secret),
    };
    await expect(ensureInstallKey(flaky)).rejects.toThrow('keyring locked');
    fail = false;
    expect((await ensureInstallKey(flaky)).publicKey).toMatch(/^ssh-ed25519 /);
  });

  it('refuses a damaged stored key with a clear error', async () => {
    const vault = new FileKeyVault(dir);
    await vault.write(INSTALL_KEY_NAME, Buffer.from('not a key'));
    await expect(ensureInstallKey(vault)).rejects.toMatchObject({ code: 'KEY_VAULT_UNAVAILABLE' });
  });
});
