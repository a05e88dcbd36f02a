// A prepared device's record as tests on both sides of the contract use it: a Raspberry Pi
// with Debian 12, KVM and avahi. Test support only; nothing in the app imports it.
import type { DeviceRecord } from './model';

export function sampleDeviceRecord(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    name: 'raspberrypi',
    hostKeyFingerprint: `SHA256:${'a'.repeat(43)}`,
    addresses: ['192.168.1.20'],
    hostname: 'raspberrypi',
    sshPort: 22,
    capabilities: {
      arch: 'aarch64',
      rawArch: 'aarch64',
      os: { id: 'debian', name: 'Debian GNU/Linux', version: '12', debianFamily: true },
      xenDom0: false,
      kvmDevice: true,
      qemu: true,
      solo5Hvt: false,
      solo5Spt: false,
      restic: false,
      avahi: true,
      systemd: true,
      memoryBytes: 4 * 1024 ** 3,
      freeDiskBytes: 20 * 1024 ** 3,
    },
    hypervisor: 'kvm',
    provisionedAt: 1_700_000_000_000,
    ...overrides,
  };
}
