// Which kind of device a Solo5 build runs on, from its Solo5 target. The one place this mapping
// lives, so a runtime Hearth learns is one line. builder-web reports no target in its JSON; its
// front page documents that the image's filename suffix is the target (.hvt, .spt, .xen,
// .virtio, .muen: robur-coop/builder-web, views.ml, Builds.data).
import type { Target } from './catalog-schema';

/** The catalog target of a Solo5 build for `abi` on `arch`, or null when Hearth runs none. */
export function solo5AbiTarget(abi: string, arch: 'x86_64' | 'aarch64'): Target | null {
  switch (abi) {
    case 'hvt':
      return `hvt-${arch}`;
    case 'spt':
      return `spt-${arch}`;
    // Solo5's virtio target is a multiboot kernel that QEMU boots; its xen target is a PVH guest.
    case 'virtio':
      return `qemu-${arch}`;
    case 'xen':
      return arch === 'x86_64' ? 'xen-x86_64' : null;
    default:
      // muen, genode: tenders Hearth does not have.
      return null;
  }
}

/** The catalog target of a build from its image's filename (`dnsvizor.hvt`), or null. */
export function imageFileTarget(
  filename: string,
  arch: 'x86_64' | 'aarch64',
): { abi: string; target: Target | null } {
  const dot = filename.lastIndexOf('.');
  const abi = dot > 0 ? filename.slice(dot + 1) : '';
  return { abi, target: solo5AbiTarget(abi, arch) };
}
