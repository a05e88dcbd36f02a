// One vocabulary for how an app runs, and the one rule for which build suits a device. The
// catalog names builds by target ("qemu-x86_64"); a device record says what it can run; the
// catalog card, the install-from-file form and the installer all ask buildFor().
/**
 * What starts an app: QEMU (with KVM where it works, emulation otherwise), Xen, or one of Solo5's
 * tenders: `solo5-hvt` (a KVM guest, needs a usable /dev/kvm) or `solo5-spt` (a process in a
 * seccomp sandbox, needs only a Linux kernel with seccomp).
 */
export const runtimes = ['qemu', 'xen', 'hvt', 'spt'] as const;
export type Runtime = (typeof runtimes)[number];

export const arches = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof arches)[number];

/** A build's kind: runtime, then CPU architecture. */
export type Target = `${Runtime}-${Arch}`;

/** How QEMU runs a guest: hardware virtualization or emulation (chosen by a real boot). */
export type Accel = 'kvm' | 'tcg';

/**
 * What a prepared device offers (its record's `hypervisor`): a Xen dom0 (apps are Xen guests),
 * QEMU with a /dev/kvm worth trying (accel kvm, falling back to tcg), or QEMU alone (tcg).
 */
export type DeviceHypervisor = 'xen' | 'kvm' | 'qemu';

export function isTarget(value: string): value is Target {
  const [runtime, arch, ...rest] = value.split('-');
  return (
    rest.length === 0 &&
    (runtimes as readonly string[]).includes(runtime ?? '') &&
    (arches as readonly string[]).includes(arch ?? '')
  );
}

export function runtimeOf(target: Target): Runtime {
  return target.split('-')[0] as Runtime;
}

export function archOf(target: Target): Arch {
  return target.slice(target.indexOf('-') + 1) as Arch;
}

interface DeviceFacts {
  hypervisor: DeviceHypervisor;
  capabilities: {
    arch: string;
    /** /dev/kvm exists (hvt needs it; a record from before tenders may leave these out). */
    kvmDevice?: boolean;
    solo5Hvt?: boolean;
    solo5Spt?: boolean;
  };
}

/** The CPU architecture builds must have for this device, or null when Hearth runs none there. */
export function deviceArch(device: DeviceFacts): Arch | null {
  const arch = device.capabilities.arch;
  return arch === 'x86_64' || arch === 'aarch64' ? arch : null;
}

/**
 * The runtimes this device offers, best first. Solo5's tenders come first where the device has
 * them: a unikernel built for one starts in milliseconds (LAB.md). spt (a seccomp-sandboxed
 * process) before hvt: it needs no KVM, and a /dev/kvm that exists may still not run guests.
 * A Xen host runs its VMs as Xen guests only (no /dev/kvm in dom0); spt runs there as a process.
 */
export function deviceRuntimes(device: DeviceFacts): Runtime[] {
  const caps = device.capabilities;
  const spt: Runtime[] = caps.solo5Spt ? ['spt'] : [];
  if (device.hypervisor === 'xen') return ['xen', ...spt];
  const hvt: Runtime[] = caps.solo5Hvt && caps.kvmDevice ? ['hvt'] : [];
  return [...spt, ...hvt, 'qemu'];
}

/** The builds this device can start, best first (deviceRuntimes, for its processor). */
export function deviceTargets(device: DeviceFacts): Target[] {
  const arch = deviceArch(device);
  if (!arch) return [];
  return deviceRuntimes(device).map((runtime): Target => `${runtime}-${arch}`);
}

/** The build of an app (among `targets`, what it has) to install on this device, or null. */
export function buildFor(targets: readonly string[], device: DeviceFacts): Target | null {
  return deviceTargets(device).find((t) => targets.includes(t)) ?? null;
}

/** Solo5's tenders: the runtimes whose image carries a manifest of the devices it needs. */
export function isSolo5Runtime(runtime: Runtime): runtime is 'hvt' | 'spt' {
  return runtime === 'hvt' || runtime === 'spt';
}
