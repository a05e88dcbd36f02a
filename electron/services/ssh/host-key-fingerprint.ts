// The one form of a host key the owner ever sees and Hearth ever stores: OpenSSH's
// `SHA256:<base64>` (what `ssh-keygen -lf` and `ssh` print), so it can be compared with
// what the device's own screen or a technician shows.
import { createHash } from 'node:crypto';

/** `SHA256:` + unpadded base64 of the SHA-256 of the public key blob (the SSH wire form). */
export function fingerprintOf(keyBlob: Buffer): string {
  const digest = createHash('sha256').update(keyBlob).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * The algorithm named at the start of a public key blob (`ssh-ed25519`, `rsa-sha2-512`'s
 * key type `ssh-rsa`, `ecdsa-sha2-nistp256`), or `unknown` if the blob is malformed.
 */
export function keyAlgorithmOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > keyBlob.length) return 'unknown';
  const name = keyBlob.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(name) ? name : 'unknown';
}
