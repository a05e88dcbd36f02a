// Hearth's first guess at the resources of an image the owner chose, for the form: the
// Solo5 manifest's block devices become data volumes; memory and the disk interface follow
// what kind of image it is. The owner can change all of it.
import type { ImageFacts, ImageResources } from '../../../shared/model';
import { volumeNameFor } from '../runtimes/solo5-manifest';

export const defaultVolumeMiB = 64;

function memoryFor(facts: ImageFacts): number {
  if (facts.kind === 'solo5') return 64;
  if (facts.kind === 'kernel' && facts.format === 'linux') return 256;
  if (facts.kind === 'kernel' && facts.format === 'multiboot') return 32;
  return 64;
}

export function suggestResources(facts: ImageFacts): ImageResources {
  const volumes =
    facts.kind === 'solo5'
      ? [...new Set(facts.blocks.map(volumeNameFor))].map((name) => ({
          name,
          sizeMiB: defaultVolumeMiB,
        }))
      : [];
  return {
    memoryMiB: memoryFor(facts),
    // A small 32-bit multiboot kernel is most likely to drive the simplest disk there is.
    disk: facts.kind === 'kernel' && facts.arch === 'x86' ? 'ide' : 'virtio',
    volumes,
    ports: [],
    bootArgs: '',
    health: { kind: 'console', pattern: '' },
  };
}
