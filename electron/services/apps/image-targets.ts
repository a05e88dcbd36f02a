// Where an image the owner chose can run, in the catalog's terms ("qemu-x86_64",
// "xen-x86_64", "spt-aarch64"), and the sentence that says why not when it cannot. The install
// refuses on these grounds before anything is sent to the device.
import type { ImageFacts } from '../../../shared/model';
import { solo5TenderSource } from '../provisioning/device-capabilities';

const solo5TargetNames: Record<string, string> = {
  muen: 'the Muen separation kernel',
  genode: 'Genode',
};

/** What each tender needs of a device, in the owner's words. */
const tenderNeeds = {
  hvt: 'the solo5-hvt tender and working KVM (/dev/kvm)',
  spt: 'the solo5-spt tender',
} as const;

/** Why this image can run nowhere Hearth installs apps; null when it can run somewhere. */
export function imageProblem(facts: ImageFacts): string | null {
  if (facts.kind === 'unknown') return facts.reason;
  if (facts.kind === 'kernel') return null;
  switch (facts.abi) {
    case 'hvt':
    case 'spt':
      return null;
    case 'muen':
    case 'genode':
      return `This Solo5 unikernel is built for ${solo5TargetNames[facts.abi]}, which Hearth does not run. Use a build of the same app for virtio (QEMU) or Xen.`;
    case 'unknown':
      return 'This Solo5 unikernel does not say which Solo5 target it was built for (it has no ABI note), so Hearth cannot tell how to start it.';
    case 'virtio':
      if (facts.arch !== 'x86_64')
        return "Solo5's virtio target runs only on PCs (x86_64); this image is built for ARM.";
      // Solo5's virtio bindings drive a single network and a single block device.
      if (facts.networks.length > 1 || facts.blocks.length > 1)
        return `Solo5's virtio target gives an app at most one network and one storage device; this one asks for ${facts.networks.length} and ${facts.blocks.length}.`;
      return null;
    case 'xen':
      return null;
  }
}

/** The kinds of device the image runs on, or none (see imageProblem). */
export function imageTargets(facts: ImageFacts): string[] {
  if (imageProblem(facts) !== null) return [];
  if (facts.kind === 'solo5') {
    if (facts.abi === 'hvt' || facts.abi === 'spt') return [`${facts.abi}-${facts.arch}`];
    return facts.abi === 'virtio' ? ['qemu-x86_64'] : [`xen-${facts.arch}`];
  }
  if (facts.kind !== 'kernel') return [];
  const arch = facts.arch === 'aarch64' ? 'aarch64' : 'x86_64';
  // PVH kernels boot as Xen PVH guests and through QEMU's PVH loader alike.
  return facts.format === 'pvh' ? [`qemu-${arch}`, `xen-${arch}`] : [`qemu-${arch}`];
}

/** Why the image cannot run on this device (a `target` of targetFor()); null when it can. */
export function refusalOn(facts: ImageFacts, target: string, deviceName: string): string | null {
  const problem = imageProblem(facts);
  if (problem !== null) return problem;
  if (imageTargets(facts).includes(target)) return null;
  const [runtime, arch] = target.split('-');
  const wanted = imageTargets(facts);
  if (!wanted.some((t) => t.endsWith(`-${arch}`)))
    return arch === 'aarch64'
      ? `This image is built for PCs (x86); ${deviceName} has an ARM processor.`
      : `This image is built for ARM boards; ${deviceName} has a PC (x86) processor.`;
  if (facts.kind === 'solo5' && (facts.abi === 'hvt' || facts.abi === 'spt'))
    return `This Solo5 unikernel is built for the solo5-${facts.abi} tender, and ${deviceName} does not have ${tenderNeeds[facts.abi]}; to run it there, ${solo5TenderSource}, then prepare ${deviceName} again. Or use a build of the same app for virtio (QEMU) or Xen.`;
  if (runtime === 'xen')
    return `${deviceName} runs apps under Xen, and this image starts only under QEMU. Choose a device with KVM or QEMU, or a build of the app for Xen (PVH).`;
  return `This image starts only under Xen, and ${deviceName} runs apps under QEMU. Choose a Xen device, or a build of the app for virtio (QEMU).`;
}
