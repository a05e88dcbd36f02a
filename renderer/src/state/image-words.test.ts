import { describe, expect, it } from 'vitest';
import { fakeChosenImage, fakeDevice } from '../test-support/fake-hearth';
import { formProblems, initialForm, toRequest } from './image-form';
import { describeImage, devicesFor, fileSizeWords, nameFromFile } from './image-words';

describe('describeImage', () => {
  it.each([
    [
      { kind: 'solo5', abi: 'virtio', arch: 'x86_64', networks: ['service'], blocks: ['storage'] },
      'A Solo5 unikernel for QEMU (virtio) that needs one network and a block device called storage.',
    ],
    [
      { kind: 'solo5', abi: 'xen', arch: 'x86_64', networks: ['a', 'b'], blocks: ['x', 'y'] },
      'A Solo5 unikernel for Xen that needs two networks and block devices called x and y.',
    ],
    [
      { kind: 'solo5', abi: 'hvt', arch: 'x86_64', networks: [], blocks: [] },
      'A Solo5 unikernel for the solo5-hvt tender (KVM) that needs no network or storage.',
    ],
    [
      { kind: 'kernel', format: 'pvh', arch: 'x86_64' },
      'A PVH kernel for PCs; it starts under QEMU or Xen.',
    ],
    [{ kind: 'kernel', format: 'linux', arch: 'aarch64' }, 'A Linux kernel for ARM boards.'],
    [{ kind: 'unknown', reason: 'The file is empty.' }, 'The file is empty.'],
  ] as const)('%o', (facts, words) => {
    expect(describeImage(facts as Parameters<typeof describeImage>[0])).toBe(words);
  });

  it('puts sizes and names as an owner reads them', () => {
    expect(fileSizeWords(9_000)).toBe('9 KB');
    expect(fileSizeWords(5 * 1024 ** 2 + 100_000)).toBe('5.1 MB');
    expect(nameFromFile('counter-v1.elf')).toBe('counter-v1');
    expect(nameFromFile('.hvt')).toBe('.hvt');
  });
});

describe('the form as data', () => {
  const pc = fakeDevice({
    id: '11111111-1111-4111-8111-111111111111',
    capabilities: { ...fakeDevice().capabilities, arch: 'x86_64' },
  });
  const xen = fakeDevice({
    id: '33333333-3333-4333-8333-333333333333',
    hypervisor: 'xen',
    capabilities: { ...fakeDevice().capabilities, arch: 'x86_64' },
  });

  it('starts on the first device that can run the image, and becomes the request', () => {
    const image = fakeChosenImage();
    expect(devicesFor(image, [fakeDevice(), xen, pc])).toEqual([pc]);
    const form = initialForm(image, [fakeDevice(), xen, pc]);
    expect(form).toMatchObject({ name: 'counter-v1', deviceId: pc.id, disk: 'ide' });
    expect(formProblems(form, image)).toEqual([
      'Say which line the app prints when it is ready, such as READY.',
    ]);
    form.pattern = 'READY';
    form.ports = [{ guest: 80, host: 8080, protocol: 'tcp', service: ' ' }];
    expect(formProblems(form, image)).toEqual([]);
    expect(toRequest(form, 'tok').ports).toEqual([{ guest: 80, host: 8080, protocol: 'tcp' }]);
  });

  it('names each problem', () => {
    const image = fakeChosenImage();
    const form = initialForm(image, [pc]);
    Object.assign(form, {
      name: ' ',
      memoryMiB: 4,
      volumes: [
        { name: 'Disk', sizeMiB: 1 },
        { name: 'a', sizeMiB: null },
      ],
      ports: [
        { guest: 80, host: 8080, protocol: 'tcp', service: 'http' },
        { guest: 81, host: 8080, protocol: 'tcp', service: '' },
        { guest: 82, host: 443, protocol: 'tcp', service: '' },
      ],
      bootArgs: 'a\nb',
      healthKind: 'http',
      healthPort: 99,
      healthPath: 'x',
    });
    expect(formProblems(form, image)).toEqual([
      'Give the app a name.',
      'Memory must be a whole number from 8 to 16384 MB.',
      'Volume 1: its name must start with a small letter and use only small letters, digits and dashes.',
      'Volume a: its size must be a whole number of MB.',
      'Port 1: a service type looks like _http._tcp.',
      'Device port 8080 is published twice.',
      'Port 3: choose a device port from 1024 up, such as 8080.',
      'Boot arguments may use only plain letters, digits and punctuation.',
      'Hearth checks a port the app publishes: choose one of its published ports.',
      'The page to check must start with /.',
    ]);
  });
});
