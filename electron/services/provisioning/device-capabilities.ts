// What a device is and can do, read from one command's output. The device is not
// trusted: every field is parsed defensively and bounded, and anything unexpected is
// reported as DEVICE_GARBLED rather than guessed.
import { HearthError } from '../../../shared/errors';
import type { DeviceCapabilities } from '../../../shared/model';
import { deviceRuntimes } from '../../../shared/runtimes';
import type { DeviceHypervisor } from '../../../shared/runtimes';

const ARCHES: Record<string, DeviceCapabilities['arch']> = {
  x86_64: 'x86_64',
  amd64: 'x86_64',
  aarch64: 'aarch64',
  arm64: 'aarch64',
  armv7l: 'armv7',
  armv6l: 'armv6',
};

function sections(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of output.split('\n').slice(0, 2000)) {
    const line = raw.trimEnd();
    if (/^@[a-z]+$/.test(line)) {
      current = [];
      map.set(line.slice(1), current);
    } else if (current && line) {
      current.push(line.slice(0, 512));
    }
  }
  return map;
}

function osRelease(lines: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const match = /^([A-Z_]+)=("?)(.*)\2$/.exec(line);
    if (match) fields[match[1]!] = match[3]!.slice(0, 128);
  }
  return fields;
}

function kib(lines: string[], key: string): number | null {
  for (const line of lines) {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB$`).exec(line);
    if (match) return Number(match[1]) * 1024;
  }
  return null;
}

export function parseCapabilities(output: string): DeviceCapabilities {
  const s = sections(output);
  if (!s.has('end') || !s.has('arch')) throw new HearthError('DEVICE_GARBLED');
  const rawArch = s.get('arch')?.[0] ?? '';
  const os = osRelease(s.get('os') ?? []);
  const idLike = `${os.ID ?? ''} ${os.ID_LIKE ?? ''}`.toLowerCase().split(/\s+/);
  const tools = new Set(s.get('tools') ?? []);
  const tenders = new Set(s.get('tenders') ?? []);
  const xen = s.get('xen') ?? [];
  const disk = (s.get('disk')?.[0] ?? '').split(/\s+/);
  const freeKib = Number(disk[3]);
  return {
    arch: ARCHES[rawArch] ?? 'other',
    rawArch: rawArch.replace(/[^\w.-]/g, '').slice(0, 32),
    os: {
      id: (os.ID ?? 'unknown').slice(0, 32),
      name: (os.PRETTY_NAME ?? os.NAME ?? 'Unknown system').slice(0, 80),
      version: (os.VERSION_ID ?? '').slice(0, 16),
      debianFamily:
        idLike.includes('debian') || idLike.includes('raspbian') || idLike.includes('ubuntu'),
    },
    xenDom0: xen.some((l) => l.includes('control_d')) && xen.includes('xl'),
    kvmDevice: (s.get('kvm') ?? []).includes('present'),
    qemu: tools.has('qemu-system-x86_64') || tools.has('qemu-system-aarch64'),
    solo5Hvt: tenders.has('solo5-hvt'),
    solo5Spt: tenders.has('solo5-spt') && (s.get('seccomp') ?? []).includes('present'),
    restic: tools.has('restic'),
    avahi: tools.has('avahi-daemon'),
    systemd: tools.has('systemctl'),
    memoryBytes: kib(s.get('mem') ?? [], 'MemTotal'),
    freeDiskBytes: Number.isFinite(freeKib) ? freeKib * 1024 : null,
  };
}

/** The hypervisor Hearth will use on this device, best first. */
export function chooseHypervisor(caps: DeviceCapabilities): 'xen' | 'kvm' | 'qemu' | null {
  if (caps.xenDom0) return 'xen';
  // /dev/kvm existing proves nothing (LAB.md): the runtime probes it with a real boot and
  // falls back to QEMU's TCG, so advertise kvm only as "may be usable".
  if (caps.qemu && caps.kvmDevice) return 'kvm';
  if (caps.qemu) return 'qemu';
  return null;
}

/** Where an owner gets Solo5's tenders: Hearth fetches nothing itself (they are not in Debian). */
export const solo5TenderSource =
  "install the solo5 package from robur's reproducible builds (https://builds.robur.coop, job solo5) on the device";

/**
 * One sentence on Solo5's tenders for the provisioning checklist: which of them apps may use
 * here, or that none can and how the owner gets them.
 */
export function tenderNote(caps: DeviceCapabilities, hypervisor: DeviceHypervisor): string {
  const runtimes = deviceRuntimes({ hypervisor, capabilities: caps });
  const hvt = runtimes.includes('hvt');
  const spt = runtimes.includes('spt');
  if (hvt && spt)
    return "Apps built for Solo5's hvt and spt tenders run here too, and start in milliseconds.";
  if (spt)
    return caps.solo5Hvt
      ? "Apps built for Solo5's spt tender run here too; solo5-hvt is installed but needs /dev/kvm, which this device lacks."
      : "Apps built for Solo5's spt tender run here too, and start in milliseconds.";
  if (hvt) return "Apps built for Solo5's hvt tender run here too, and start in milliseconds.";
  if (caps.solo5Hvt && hypervisor !== 'xen')
    return `solo5-hvt is installed but needs /dev/kvm, which this device lacks; for apps built for Solo5's spt tender, ${solo5TenderSource}, then prepare it again.`;
  return `This device has no Solo5 tender (solo5-hvt or solo5-spt), so apps built only for them cannot run on it; to run them, ${solo5TenderSource}, then prepare it again.`;
}

/** A short plain-words description, e.g. "Raspberry Pi OS 12 (aarch64), 4 GB memory". */
export function describeCapabilities(caps: DeviceCapabilities): string {
  const gb = caps.memoryBytes
    ? `, ${Math.max(1, Math.round(caps.memoryBytes / 1024 ** 3))} GB memory`
    : '';
  return `${caps.os.name} (${caps.rawArch || caps.arch})${gb}`;
}
