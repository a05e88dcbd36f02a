import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectImage } from './image-inspection';
import { suggestResources } from './image-suggestions';
import { volumeNameFor } from '../runtimes/solo5-manifest';
import { imageProblem, imageTargets, refusalOn } from './image-targets';
import {
  elfImage,
  linuxBzImage,
  multibootHeader,
  multibootKernel,
  pvhNote,
  solo5Image,
} from './image-test-images';

describe('inspectImage', () => {
  it('reads a Solo5 virtio unikernel: its target and the devices its manifest asks for', () => {
    const facts = inspectImage(
      solo5Image('virtio', [
        { name: 'service', type: 'net' },
        { name: 'storage', type: 'block' },
      ]),
    );
    expect(facts).toEqual({
      kind: 'solo5',
      abi: 'virtio',
      arch: 'x86_64',
      networks: ['service'],
      blocks: ['storage'],
    });
    expect(imageTargets(facts)).toEqual(['qemu-x86_64']);
    expect(imageProblem(facts)).toBeNull();
  });

  it.each(['hvt', 'spt'] as const)(
    'sends a Solo5 %s image to devices with that tender, and says elsewhere how to get it',
    (abi) => {
      const facts = inspectImage(solo5Image(abi, [{ name: 'net0', type: 'net' }]));
      expect(facts).toMatchObject({ kind: 'solo5', abi, networks: ['net0'] });
      expect(imageProblem(facts)).toBeNull();
      expect(imageTargets(facts)).toEqual([`${abi}-x86_64`]);
      expect(refusalOn(facts, `${abi}-x86_64`, 'Attic')).toBeNull();
      const elsewhere = refusalOn(facts, 'qemu-x86_64', 'Attic') ?? '';
      expect(elsewhere).toMatch(
        new RegExp(`built for the solo5-${abi} tender, and Attic does not have`),
      );
      expect(elsewhere).toContain('https://builds.robur.coop');
      expect(refusalOn(facts, `${abi}-aarch64`, 'Pi')).toMatch(/built for PCs/);
    },
  );

  it.each([['muen', /Muen/]] as const)(
    'says plainly that a Solo5 %s image cannot run',
    (abi, sentence) => {
      const facts = inspectImage(solo5Image(abi, [{ name: 'net0', type: 'net' }]));
      expect(facts).toMatchObject({ kind: 'solo5', abi, networks: ['net0'] });
      expect(imageTargets(facts)).toEqual([]);
      expect(imageProblem(facts)).toMatch(sentence);
    },
  );

  it('sends a Solo5 xen image to Xen devices only, and says why elsewhere', () => {
    const facts = inspectImage(solo5Image('xen', [{ name: 'storage', type: 'block' }]));
    expect(imageTargets(facts)).toEqual(['xen-x86_64']);
    expect(refusalOn(facts, 'xen-x86_64', 'Attic')).toBeNull();
    expect(refusalOn(facts, 'qemu-x86_64', 'Living-room Pi')).toMatch(
      /starts only under Xen, and Living-room Pi runs apps under QEMU/,
    );
  });

  it('refuses a virtio image that needs more devices than Solo5 virtio can give', () => {
    const facts = inspectImage(
      solo5Image('virtio', [
        { name: 'a', type: 'block' },
        { name: 'b', type: 'block' },
      ]),
    );
    expect(imageProblem(facts)).toMatch(/at most one network and one storage device/);
  });

  it('reads the lab-style 32-bit multiboot kernel and suggests an IDE disk for it', () => {
    const facts = inspectImage(multibootKernel());
    expect(facts).toEqual({ kind: 'kernel', format: 'multiboot', arch: 'x86' });
    expect(imageTargets(facts)).toEqual(['qemu-x86_64']);
    expect(refusalOn(facts, 'xen-x86_64', 'Attic')).toMatch(/Attic runs apps under Xen/);
    expect(refusalOn(facts, 'qemu-aarch64', 'Pi')).toMatch(/built for PCs \(x86\); Pi has an ARM/);
    expect(suggestResources(facts)).toMatchObject({ memoryMiB: 32, disk: 'ide', volumes: [] });
  });

  it('knows PVH kernels run under both QEMU and Xen, and Linux kernels', () => {
    const pvh = inspectImage(elfImage({ notes: [pvhNote()] }));
    expect(pvh).toEqual({ kind: 'kernel', format: 'pvh', arch: 'x86_64' });
    expect(imageTargets(pvh)).toEqual(['qemu-x86_64', 'xen-x86_64']);
    expect(inspectImage(linuxBzImage())).toEqual({
      kind: 'kernel',
      format: 'linux',
      arch: 'x86_64',
    });
  });

  it('accepts a 64-bit multiboot kernel only with load addresses QEMU can use', () => {
    expect(inspectImage(elfImage({ body: multibootHeader(true) }))).toMatchObject({
      kind: 'kernel',
      format: 'multiboot',
    });
    expect(inspectImage(elfImage({ body: multibootHeader(false) }))).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/QEMU cannot start it/) as string,
    });
  });

  it.each([
    ['an empty file', Buffer.alloc(0), /empty/],
    ['a shell script', Buffer.from('#!/bin/sh\necho hi\n'), /does not recognise/],
    ['a gzip file', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), /compressed/],
    ['a truncated ELF', elfImage().subarray(0, 30), /cut short/],
    ['an ordinary program', elfImage(), /a program, not a kernel/],
    [
      'a big-endian ELF',
      Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 2]), Buffer.alloc(60)]),
      /big-endian/,
    ],
    ['an ELF for another processor', elfImage({ machine: 40 }), /kind of processor/],
  ])('calls %s unknown, with a reason', (_what, bytes, reason) => {
    const facts = inspectImage(bytes);
    expect(facts).toMatchObject({ kind: 'unknown' });
    expect(imageProblem(facts)).toMatch(reason);
    expect(imageTargets(facts)).toEqual([]);
  });

  it('says what is wrong with a damaged Solo5 manifest', () => {
    const good = solo5Image('virtio', [{ name: 'storage', type: 'block' }]);
    const bad = Buffer.from(good);
    // The manifest's entry count: past the ABI1 note (36 bytes) and the MFT1 note's header (24).
    bad.writeUInt32LE(9, 64 + 56 + 36 + 24 + 4);
    expect(inspectImage(bad)).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/Solo5 manifest could not be read/) as string,
    });
  });

  it('never throws, whatever the bytes, truncated or corrupted', () => {
    const good = solo5Image('virtio', [
      { name: 'service', type: 'net' },
      { name: 'storage', type: 'block' },
    ]);
    for (let cut = 0; cut <= good.length; cut += 3) inspectImage(good.subarray(0, cut));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (edits) => {
          const bytes = Buffer.from(good);
          for (const [at, value] of edits) bytes[at] = value;
          expect(['solo5', 'kernel', 'unknown']).toContain(inspectImage(bytes).kind);
        },
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        inspectImage(Buffer.from(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('suggestResources', () => {
  it('turns the Solo5 block devices into volumes with a size', () => {
    const facts = inspectImage(
      solo5Image('virtio', [
        { name: 'service', type: 'net' },
        { name: 'Storage', type: 'block' },
      ]),
    );
    expect(suggestResources(facts)).toEqual({
      memoryMiB: 64,
      disk: 'virtio',
      volumes: [{ name: 'storage', sizeMiB: 64 }],
      ports: [],
      bootArgs: '',
      health: { kind: 'console', pattern: '' },
    });
  });

  it('makes any Solo5 device name a valid volume name', () => {
    expect(volumeNameFor('Storage')).toBe('storage');
    expect(volumeNameFor('0data')).toBe('disk0data');
    expect(volumeNameFor('a'.repeat(67))).toHaveLength(32);
  });
});
