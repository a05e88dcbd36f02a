// "Is this your device?": learn the device's host key without signing in, and compare it
// with every device Hearth knows that the address, or what the LAN announces for it, points at.
import { HearthError } from '../../../shared/errors';
import { fingerprintArt } from '../../../shared/fingerprint-art';
import type { DeviceIdentity } from '../../../shared/model';
import type { HostKeyProbe } from '../ssh/probe-host-key';
import type { DeviceStore } from './device-store';
import { checkIdentity } from './identity-check';
import type { Sighting } from './identity-check';

const artLabels: Record<string, string> = {
  'ssh-ed25519': 'ED25519 256',
  'ecdsa-sha2-nistp256': 'ECDSA 256',
  'ecdsa-sha2-nistp384': 'ECDSA 384',
  'ecdsa-sha2-nistp521': 'ECDSA 521',
};

export interface IdentifyDeps {
  probe: (address: string, port: number) => Promise<HostKeyProbe>;
  /** Before the one second try (default 2 s); tests pass 0. */
  retryAfterMs?: number;
  devices: DeviceStore;
  /** Lets discovery merge entries once it knows the device's key. */
  learned?: (address: string, fingerprint: string, banner: string) => void;
  /** The Hearth ids and host names the LAN announces for an address (discovery's view). */
  claims?: (address: string) => Omit<Sighting, 'address'>;
}

/** A first try that met no device at all; a device that answered wrongly is not asked again. */
const TRANSIENT = new Set(['DEVICE_UNREACHABLE', 'DEVICE_TIMEOUT', 'CONNECTION_LOST']);

/**
 * The wizard's look at a device is one click for the owner, and a home network's first packet
 * to a device can be lost (a Wi-Fi address lookup, a device whose SSH just started): one quiet
 * second try saves the owner a "could not reach" for a device that is there.
 */
async function probeTwice(deps: IdentifyDeps, address: string, port: number) {
  try {
    return await deps.probe(address, port);
  } catch (error) {
    if (!(error instanceof HearthError) || !TRANSIENT.has(error.code)) throw error;
    await new Promise((r) => setTimeout(r, deps.retryAfterMs ?? 2_000));
    return deps.probe(address, port);
  }
}

export async function identifyDevice(
  deps: IdentifyDeps,
  address: string,
  port: number,
): Promise<DeviceIdentity> {
  const probe = await probeTwice(deps, address, port);
  // What the LAN claimed for this address, read before the key is learned for it.
  const claims = deps.claims?.(address) ?? { hearthIds: [], hostnames: [] };
  deps.learned?.(address, probe.fingerprint, probe.banner);
  const verdict = checkIdentity(
    await deps.devices.list(),
    { address, ...claims },
    probe.fingerprint,
  );
  const previousFingerprint = verdict.kind === 'changed' ? verdict.device.hostKeyFingerprint : null;
  const impersonates =
    verdict.kind === 'impersonating'
      ? { name: verdict.device.name, fingerprint: verdict.device.hostKeyFingerprint }
      : null;
  return {
    address,
    port,
    fingerprint: probe.fingerprint,
    art: fingerprintArt(probe.fingerprint, artLabels[probe.algorithm] ?? ''),
    previousFingerprint,
    impersonates,
  };
}
