// "Is this really the device it looks like?" A device is known by its host key; its Hearth
// id, its names and its address are only claims anyone on the LAN can make. So the key
// that answered is compared with every stored device those claims point at. Pure.
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord } from '../../../shared/model';

/** What the network says about whatever answered at `address`. */
export interface Sighting {
  /** An IPv4 address, or the name the owner typed. */
  address: string;
  /** Hearth ids announced over mDNS for that address. */
  hearthIds: readonly string[];
  /** mDNS host names (name.local) announced for that address. */
  hostnames: readonly string[];
}

export type IdentityVerdict =
  /** The key is one Hearth pinned: it is that device, whatever else claims its names. */
  | { kind: 'known'; device: DeviceRecord }
  /** Nothing Hearth knows is claimed: a new device. */
  | { kind: 'new' }
  /** Where Hearth last reached a device, another key answers (reinstalled, or replaced). */
  | { kind: 'changed'; device: DeviceRecord }
  /** Somewhere else, it uses a known device's Hearth id or name with another key. */
  | { kind: 'impersonating'; device: DeviceRecord };

const lower = (s: string): string => s.toLowerCase().replace(/\.$/, '');

export function checkIdentity(
  records: readonly DeviceRecord[],
  sighting: Sighting,
  fingerprint: string,
): IdentityVerdict {
  const known = records.find((d) => d.hostKeyFingerprint === fingerprint);
  if (known) return { kind: 'known', device: known };
  const address = lower(sighting.address);
  const changed = records.find((d) => d.addresses.some((a) => lower(a) === address));
  // At the same address a new key is the old "identity changed" story, with its Forget way out.
  if (changed) return { kind: 'changed', device: changed };
  const names = new Set([...sighting.hostnames.map(lower), address]);
  const ids = new Set(sighting.hearthIds);
  const claimed = records.find((d) => ids.has(d.id) || names.has(`${lower(d.hostname)}.local`));
  return claimed ? { kind: 'impersonating', device: claimed } : { kind: 'new' };
}

/** Throws the owner-readable refusal for a verdict that must stop a sign-in. */
export function refuseUnlessTrusted(verdict: IdentityVerdict, fingerprint: string): void {
  if (verdict.kind === 'changed')
    throw new HearthError(
      'HOST_KEY_CHANGED',
      `This device's identity has changed: Hearth knew it as ${verdict.device.hostKeyFingerprint} and it now says ${fingerprint}. Hearth did not sign in or send anything to it.`,
    );
  if (verdict.kind === 'impersonating') throw impersonationError(verdict.device);
}

export function impersonationError(device: DeviceRecord): HearthError {
  return new HearthError(
    'IMPERSONATION',
    `This is not your ${device.name}: it uses its name but proves a different identity. Hearth did not sign in or send anything to it.`,
  );
}
