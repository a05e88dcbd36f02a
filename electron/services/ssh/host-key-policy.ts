// How a connection decides whether the device is the one the owner means. Runs inside
// ssh2's hostVerifier, i.e. after key exchange and BEFORE any password or key is sent, so a
// refused device never learns a secret.
import { HearthError } from '../../../shared/errors';

export type HostKeyPolicy =
  /** The device's key is known: anything else is refused before authentication. */
  | { kind: 'pinned'; fingerprint: string }
  /** Trust on first use, only after the owner confirmed the fingerprint. */
  | { kind: 'confirm'; confirm: (fingerprint: string) => Promise<boolean> };

/** Resolves when the key is accepted; rejects with the HearthError that refuses it. */
export async function checkHostKey(policy: HostKeyPolicy, fingerprint: string): Promise<void> {
  if (policy.kind === 'pinned') {
    if (fingerprint === policy.fingerprint) return;
    throw new HearthError(
      'HOST_KEY_CHANGED',
      "This device's identity has changed since Hearth last saw it, so Hearth did not connect " +
        `or send anything to it. It was ${policy.fingerprint} and is now ${fingerprint}.`,
    );
  }
  let confirmed: boolean;
  try {
    confirmed = await policy.confirm(fingerprint);
  } catch (error) {
    // A cancelled confirmation dialog stays a cancel; anything else is "not confirmed".
    if (error instanceof HearthError && error.code === 'CANCELLED') throw error;
    throw new HearthError('HOST_KEY_NOT_CONFIRMED', undefined, { cause: error });
  }
  if (confirmed !== true) throw new HearthError('HOST_KEY_NOT_CONFIRMED');
}
