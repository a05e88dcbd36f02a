// An image file the owner chose, in words: what Hearth learned from it ("A Solo5 unikernel
// for QEMU that needs one network and a block device called storage"), and which of the
// owner's devices can run it.
import { buildFor } from '../../../shared/runtimes';
import type { ChosenImage, DeviceRecord, ImageFacts } from '../../../shared/model';
import { listWords } from './app-words';

const solo5Abis: Record<string, string> = {
  virtio: 'for QEMU (virtio)',
  xen: 'for Xen',
  hvt: 'for the solo5-hvt tender (KVM)',
  spt: 'for the solo5-spt tender (a sandboxed process)',
  muen: 'for Muen',
  genode: 'for Genode',
  unknown: 'for an unknown Solo5 target',
};

const counted = (n: number, one: string, many: string) =>
  n === 1 ? one : `${n === 2 ? 'two' : String(n)} ${many}`;

function needs(facts: Extract<ImageFacts, { kind: 'solo5' }>): string {
  const parts: string[] = [];
  if (facts.networks.length > 0)
    parts.push(counted(facts.networks.length, 'one network', 'networks'));
  if (facts.blocks.length > 0)
    parts.push(
      `${facts.blocks.length === 1 ? 'a block device' : 'block devices'} called ${listWords(facts.blocks)}`,
    );
  return parts.length > 0 ? `needs ${parts.join(' and ')}` : 'needs no network or storage';
}

/** One sentence: what the file is and what it needs. */
export function describeImage(facts: ImageFacts): string {
  switch (facts.kind) {
    case 'solo5':
      return `A Solo5 unikernel ${solo5Abis[facts.abi]} that ${needs(facts)}.`;
    case 'kernel': {
      const machine = facts.arch === 'aarch64' ? 'ARM boards' : 'PCs';
      if (facts.format === 'multiboot')
        return `A multiboot kernel for ${machine}${facts.arch === 'x86' ? ' (32-bit)' : ''}.`;
      if (facts.format === 'pvh')
        return `A PVH kernel for ${machine}; it starts under QEMU or Xen.`;
      if (facts.format === 'linux') return `A Linux kernel for ${machine}.`;
      return `A kernel for ${machine}.`;
    }
    case 'unknown':
      return facts.reason;
  }
}

/** "4 MB", "512 KB": the file's size as an owner reads it. */
export function fileSizeWords(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${Math.round((bytes / 1024 ** 2) * 10) / 10} MB`;
}

/** The devices this image can run on (shared/runtimes.ts decides, as the installer does). */
export function devicesFor(image: ChosenImage, devices: readonly DeviceRecord[]): DeviceRecord[] {
  return devices.filter((device) => buildFor(image.targets, device) !== null);
}

/** The file name without its extension, as a first name for the app. */
export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.[A-Za-z0-9]{1,8}$/, '').trim();
  return (stem || fileName).slice(0, 64);
}

export { targetWords } from './runtime-words';
