// One vocabulary for how an app runs, and the one rule for which build suits a device. The
// catalog names builds by target ("qemu-x86_64"); a device record says what it can run; the
// catalog card, the install-from-file form and the installer all ask buildFor().
/** What starts an app: QEMU (with KVM where it works, emulation otherwise), Xen, Solo5's tenders. */
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
  capabilities: { arch: string };
}

/** The CPU architecture builds must have for this device, or null when Hearth runs none there. */
export function deviceArch(device: DeviceFacts): Arch | null {
  const arch = device.capabilities.arch;
  return arch === 'x86_64' || arch === 'aarch64' ? arch : null;
}

/**
 * The builds this device can start, best first. A Xen host runs apps as Xen guests only; any
 * other prepared device runs them under QEMU (KVM or emulation is decided per app by a boot).
 */
export function deviceTargets(device: DeviceFacts): Target[] {
  const arch = deviceArch(device);
  if (!arch) return [];
  return device.hypervisor === 'xen' ? [`xen-${arch}`] : [`qemu-${arch}`];
}

/** The build of an app (among `targets`, what it has) to install on this device, or null. */
export function buildFor(targets: readonly string[], device: DeviceFacts): Target | null {
  return deviceTargets(device).find((t) => targets.includes(t)) ?? null;
}
