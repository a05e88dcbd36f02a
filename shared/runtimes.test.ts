import { describe, expect, it } from 'vitest';
import type { DeviceCapabilities, DeviceRecord } from './model';
import { archOf, buildFor, deviceArch, deviceTargets, isTarget, runtimeOf } from './runtimes';

const device = (
  hypervisor: DeviceRecord['hypervisor'],
  arch: DeviceCapabilities['arch'],
): Parameters<typeof buildFor>[1] => ({ hypervisor, capabilities: { arch } });

describe('which build suits a device', () => {
  it('offers a Xen host only Xen builds', () => {
    const xenHost = device('xen', 'x86_64');
    expect(deviceTargets(xenHost)).toEqual(['xen-x86_64']);
    expect(buildFor(['qemu-x86_64'], xenHost)).toBeNull();
    expect(buildFor(['qemu-x86_64', 'xen-x86_64'], xenHost)).toBe('xen-x86_64');
  });

  it('picks the QEMU build for the board’s processor', () => {
    const pi = device('kvm', 'aarch64');
    expect(buildFor(['qemu-x86_64', 'qemu-aarch64'], pi)).toBe('qemu-aarch64');
    expect(buildFor(['qemu-x86_64', 'xen-aarch64'], pi)).toBeNull();
    expect(buildFor(['qemu-x86_64'], device('qemu', 'x86_64'))).toBe('qemu-x86_64');
  });

  it('offers an armv7 or armv6 board, or an unknown processor, nothing', () => {
    for (const arch of ['armv7', 'armv6', 'other'] as const) {
      expect(deviceArch(device('kvm', arch))).toBeNull();
      expect(deviceTargets(device('kvm', arch))).toEqual([]);
      expect(
        buildFor(['qemu-x86_64', 'qemu-aarch64', 'xen-x86_64'], device('kvm', arch)),
      ).toBeNull();
    }
  });

  it('tells a target from other words', () => {
    for (const t of ['qemu-x86_64', 'qemu-aarch64', 'xen-x86_64', 'hvt-aarch64', 'spt-x86_64'])
      expect(isTarget(t)).toBe(true);
    for (const t of ['qemu', 'qemu-armv7', 'kvm-x86_64', 'qemu-x86_64-extra', '', 'QEMU-x86_64'])
      expect(isTarget(t)).toBe(false);
  });

  it('splits a target into runtime and processor', () => {
    expect(runtimeOf('xen-x86_64')).toBe('xen');
    expect(archOf('xen-x86_64')).toBe('x86_64');
    expect(archOf('qemu-aarch64')).toBe('aarch64');
  });
});
