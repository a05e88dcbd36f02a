// The kinds of device a build runs on, in the owner's words: the catalog card and the
// install-from-file form say with them where an app can run, and what a device lacks.
import { isTarget, runtimeOf } from '../../../shared/runtimes';

const targetNames: Record<string, string> = {
  'qemu-x86_64': 'a PC with KVM or QEMU',
  'qemu-aarch64': 'an ARM board with KVM or QEMU',
  'xen-x86_64': 'a PC running Xen',
  'xen-aarch64': 'an ARM board running Xen',
  'hvt-x86_64': "a PC with KVM and Solo5's solo5-hvt tender",
  'hvt-aarch64': "an ARM board with KVM and Solo5's solo5-hvt tender",
  'spt-x86_64': "a PC with Solo5's solo5-spt tender",
  'spt-aarch64': "an ARM board with Solo5's solo5-spt tender",
};

/** "a PC with KVM or QEMU or a PC running Xen": where a build can run. */
export function targetWords(targets: readonly string[]): string {
  return targets.map((t) => targetNames[t] ?? t).join(' or ');
}

/** Whether every build of an app needs one of Solo5's tenders. */
export function onlyForTenders(targets: readonly string[]): boolean {
  return (
    targets.length > 0 &&
    targets.every((t) => isTarget(t) && (runtimeOf(t) === 'hvt' || runtimeOf(t) === 'spt'))
  );
}

/** Why none of the owner's devices can take an app, in one sentence. */
export function cannotRunWords(appName: string, targets: readonly string[]): string {
  if (onlyForTenders(targets))
    return `${appName} runs only under Solo5's tenders, and none of your devices has one: it needs ${targetWords(targets)}.`;
  return `None of your devices can run ${appName} yet: it needs ${targetWords(targets)}.`;
}
