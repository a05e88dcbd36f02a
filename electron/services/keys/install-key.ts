// One ed25519 key pair per Hearth install: it is what Hearth signs in to devices with once
// they are prepared. The private key lives only in the key vault; the public key and the
// fingerprint are derived from it on every run, so nothing else needs keeping in sync.
import { hostname } from 'node:os';
// ssh2 is CommonJS and Node's ESM loader cannot see `utils` as a named export.
import ssh2 from 'ssh2';

const { utils } = ssh2;
import { HearthError } from '../../../shared/errors';
import { fingerprintOf } from '../ssh/host-key-fingerprint';
import { generateEd25519 } from './ed25519-keygen';
import type { KeyVault } from './key-vault';

export const INSTALL_KEY_NAME = 'install-key';

export interface InstallKey {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  privateKey: string;
  /** One authorized_keys line: `ssh-ed25519 AAAA… hearth@<hostname>`. */
  publicKey: string;
  /** `SHA256:…` of the public key. */
  fingerprint: string;
}

/** `hearth@<this computer>`, reduced to characters that are safe in authorized_keys. */
function keyComment(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '') || 'computer';
  return `hearth@${host.slice(0, 64)}`;
}

function fromPrivate(privateKey: string): InstallKey {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error || parsed.type !== 'ssh-ed25519' || !parsed.isPrivateKey())
    throw new HearthError(
      'KEY_VAULT_UNAVAILABLE',
      "Hearth's key in this computer's secure storage is damaged. Remove it from the key store to let Hearth make a new one, then prepare your devices again.",
      parsed instanceof Error ? { cause: parsed } : undefined,
    );
  const blob = parsed.getPublicSSH();
  const comment = parsed.comment || keyComment();
  return {
    privateKey,
    publicKey: `ssh-ed25519 ${blob.toString('base64')} ${comment}`,
    fingerprint: fingerprintOf(blob),
  };
}

const pending = new WeakMap<KeyVault, Promise<InstallKey>>();

/** The install's key pair, made and stored on first use. Concurrent callers share one. */
export function ensureInstallKey(vault: KeyVault): Promise<InstallKey> {
  let result = pending.get(vault);
  if (!result) {
    result = load(vault);
    pending.set(vault, result);
    // A failure (locked keyring) must not stick: the next call tries again.
    result.catch(() => pending.delete(vault));
  }
  return result;
}

async function load(vault: KeyVault): Promise<InstallKey> {
  const stored = await vault.read(INSTALL_KEY_NAME);
  if (stored) return fromPrivate(stored.toString('utf8'));
  const pair = generateEd25519(keyComment());
  // Check before storing: a key Hearth cannot read back must never become the install's key.
  const key = fromPrivate(pair.privateKey);
  await vault.write(INSTALL_KEY_NAME, Buffer.from(pair.privateKey, 'utf8'));
  return key;
}
