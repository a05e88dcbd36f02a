import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageResources } from '../../../shared/model';
import { ChosenImages } from './chosen-images';
import { multibootKernel, solo5Image } from './image-test-images';
import { localImagePort } from './local-image';
import type { LocalImageInstall } from './local-image';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-local-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const resources: ImageResources = {
  memoryMiB: 32,
  disk: 'ide',
  volumes: [{ name: 'disk', sizeMiB: 1 }],
  ports: [],
  bootArgs: '',
  health: { kind: 'console', pattern: 'READY' },
};

async function chosen(name: string, bytes: Buffer, over: Partial<LocalImageInstall> = {}) {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const images = new ChosenImages();
  const { token } = await images.choose(path);
  const install: LocalImageInstall = {
    image: images.get(token),
    appId: 'counter',
    name: 'Counter',
    deviceName: 'Living-room Pi',
    resources,
    ...over,
  };
  return { path, port: localImagePort(install) };
}

const options = () => ({ signal: new AbortController().signal, onProgress: () => undefined });

describe('localImagePort', () => {
  it('resolves the owner’s form as the app, and "downloads" by checking the file again', async () => {
    const { path, port } = await chosen('counter.elf', multibootKernel());
    const app = await port.resolve('counter', 'qemu-x86_64');
    expect(app).toMatchObject({
      appId: 'counter',
      name: 'Counter',
      target: 'qemu-x86_64',
      artifact: { disk: 'ide' },
      resources: { memoryMiB: 32, volumes: [{ name: 'disk', sizeMiB: 1 }] },
    });
    expect(app.version).toMatch(/^file [0-9a-f]{12}$/);
    const progress: number[] = [];
    const local = await port.download(app.artifact, {
      ...options(),
      onProgress: (done) => progress.push(done),
    });
    expect(local).toBe(path);
    expect(progress.at(-1)).toBe(app.artifact.size);
  });

  it('refuses a file that changed after it was chosen, before anything is sent', async () => {
    const { path, port } = await chosen('counter.elf', multibootKernel());
    const app = await port.resolve('counter', 'qemu-x86_64');
    const bytes = multibootKernel();
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(path, bytes);
    await expect(port.download(app.artifact, options())).rejects.toThrow(
      'counter.elf changed since you chose it, so Hearth did not send it. Choose the file again.',
    );
    await appendFile(path, 'more');
    await expect(port.download(app.artifact, options())).rejects.toThrow(/changed since/);
    await rm(path);
    await expect(port.download(app.artifact, options())).rejects.toThrow(/no longer where/);
  });

  it('refuses an hvt image for a device without the tender before anything happens, saying why', async () => {
    const { port } = await chosen('app.hvt', solo5Image('hvt', [{ name: 'net', type: 'net' }]));
    await expect(port.resolve('counter', 'qemu-x86_64')).rejects.toThrow(
      /built for the solo5-hvt tender, and .* does not have the solo5-hvt tender and working KVM/,
    );
  });

  it('boots a Solo5 virtio image with virtio devices and its network through the published ports', async () => {
    const image = solo5Image('virtio', [
      { name: 'service', type: 'net' },
      { name: 'storage', type: 'block' },
    ]);
    const noPorts = await chosen('web.virtio', image, {
      resources: { ...resources, volumes: [{ name: 'storage', sizeMiB: 16 }] },
    });
    await expect(noPorts.port.resolve('counter', 'qemu-x86_64')).rejects.toThrow(
      /needs a network: publish at least one port/,
    );
    const { port } = await chosen('web.virtio', image, {
      resources: {
        ...resources,
        volumes: [{ name: 'storage', sizeMiB: 16 }],
        ports: [{ guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp' }],
        health: { kind: 'http', port: 80, path: '/' },
      },
    });
    const app = await port.resolve('counter', 'qemu-x86_64');
    expect(app.artifact.disk).toBe('virtio');
    expect(app.resources.ports).toEqual([
      { name: 'http', guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp', path: '/' },
    ]);
    await expect(port.resolve('counter', 'xen-x86_64')).rejects.toThrow(/runs apps under Xen/);
  });

  it('refuses a health check on a port it does not publish', async () => {
    const { port } = await chosen('counter.elf', multibootKernel(), {
      resources: { ...resources, health: { kind: 'tcp', port: 22 } },
    });
    await expect(port.resolve('counter', 'qemu-x86_64')).rejects.toThrow(/publish port 22/);
  });
});
