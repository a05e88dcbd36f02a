// "Is this your device?": learn the device's host key without signing in, and compare it
// with what Hearth already knows about whatever answered at that address before.
import { fingerprintArt } from '../../../shared/fingerprint-art';
import type { DeviceIdentity } from '../../../shared/model';
import type { HostKeyProbe } from '../ssh/probe-host-key';
import type { DeviceStore } from './device-store';

const artLabels: Record<string, string> = {
  'ssh-ed25519': 'ED25519 256',
  'ecdsa-sha2-nistp256': 'ECDSA 256',
  'ecdsa-sha2-nistp384': 'ECDSA 384',
  'ecdsa-sha2-nistp521': 'ECDSA 521',
};

export interface IdentifyDeps {
  probe: (address: string, port: number) => Promise<HostKeyProbe>;
  devices: DeviceStore;
  /** Lets discovery merge entries once it knows the device's key. */
  learned?: (address: string, fingerprint: string, banner: string) => void;
}

export async function identifyDevice(
  deps: IdentifyDeps,
  address: string,
  port: number,
): Promise<DeviceIdentity> {
  const probe = await deps.probe(address, port);
  deps.learned?.(address, probe.fingerprint, probe.banner);
  const known = await deps.devices.byAddress(address);
  const previousFingerprint =
    known && known.hostKeyFingerprint !== probe.fingerprint ? known.hostKeyFingerprint : null;
  return {
    address,
    port,
    fingerprint: probe.fingerprint,
    art: fingerprintArt(probe.fingerprint, artLabels[probe.algorithm] ?? ''),
    previousFingerprint,
  };
}
