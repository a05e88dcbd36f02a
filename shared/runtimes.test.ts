import { describe, expect, it } from 'vitest';
import type { DeviceCapabilities, DeviceRecord } from './model';
import {
  archOf,
  buildFor,
  deviceArch,
  deviceRuntimes,
  deviceTargets,
  isSolo5Runtime,
  isTarget,
  runtimeOf,
} from './runtimes';

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

  it('offers Solo5 builds only where the device has the tender (and hvt only with /dev/kvm)', () => {
    const facts = (
      hypervisor: DeviceRecord['hypervisor'],
      caps: { kvmDevice?: boolean; solo5Hvt?: boolean; solo5Spt?: boolean },
    ): Parameters<typeof buildFor>[1] => ({
      hypervisor,
      capabilities: { arch: 'x86_64', ...caps },
    });
    const both = facts('kvm', { kvmDevice: true, solo5Hvt: true, solo5Spt: true });
    expect(deviceTargets(both)).toEqual(['spt-x86_64', 'hvt-x86_64', 'qemu-x86_64']);
    expect(buildFor(['qemu-x86_64', 'hvt-x86_64'], both)).toBe('hvt-x86_64');
    // A board without KVM (many Raspberry Pi OS kernels): solo5-hvt installed is not enough.
    const noKvm = facts('qemu', { kvmDevice: false, solo5Hvt: true });
    expect(deviceRuntimes(noKvm)).toEqual(['qemu']);
    expect(buildFor(['hvt-x86_64'], noKvm)).toBeNull();
    expect(buildFor(['spt-x86_64', 'qemu-x86_64'], facts('qemu', { solo5Spt: true }))).toBe(
      'spt-x86_64',
    );
    // No tender at all (a record from before tenders, too): only what QEMU starts.
    const none = facts('kvm', { kvmDevice: true });
    expect(deviceTargets(none)).toEqual(['qemu-x86_64']);
    expect(buildFor(['hvt-x86_64', 'spt-x86_64'], none)).toBeNull();
    // A Xen host runs spt processes in dom0, never hvt (dom0 has no /dev/kvm).
    expect(
      deviceTargets(facts('xen', { kvmDevice: true, solo5Hvt: true, solo5Spt: true })),
    ).toEqual(['xen-x86_64', 'spt-x86_64']);
    expect(isSolo5Runtime('spt') && isSolo5Runtime('hvt')).toBe(true);
    expect(isSolo5Runtime('qemu') || isSolo5Runtime('xen')).toBe(false);
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
