import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { run } from './command';

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';
export const hostKeyTypes: readonly HostKeyType[] = ['ed25519', 'ecdsa', 'rsa'];

/** OpenSSH's fingerprint: SHA256 of the key blob, base64 without padding. */
export function fingerprintOfBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Fingerprint of one line of an OpenSSH public key file (`type base64 [comment]`). */
export function fingerprintOfPublicKeyLine(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob || !/^[A-Za-z0-9+/]+=*$/.test(blob)) throw new Error('not an OpenSSH public key line');
  return fingerprintOfBlob(Buffer.from(blob, 'base64'));
}

/**
 * Generates a device's host keys into its root before first boot, so every `up` gives a device
 * new keys (a re-upped device looks like a reinstalled one) and the lab knows the fingerprints
 * without asking the device.
 */
export async function generateHostKeys(
  root: string,
  comment: string,
): Promise<Record<HostKeyType, string>> {
  const entries = await Promise.all(
    hostKeyTypes.map(async (type) => {
      const file = `${root}/etc/ssh/ssh_host_${type}_key`;
      await run(['ssh-keygen', '-q', '-t', type, '-N', '', '-C', comment, '-f', file]);
      const fingerprint = fingerprintOfPublicKeyLine(await readFile(`${file}.pub`, 'utf8'));
      return [type, fingerprint] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<HostKeyType, string>;
}
