// Installing a catalog app's Solo5 build on a device with a tender: the device's best runtime the
// app has a build for is chosen, the image's manifest is read on the laptop, and an image whose
// manifest names a device the app does not give is refused before anything is sent.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import type { TaskSnapshot } from '../../../shared/model';
import type { Target } from '../../../shared/runtimes';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths } from '../device/layout';
import { launcherFor } from '../runtimes/launcher';
import { TaskManager } from '../tasks/task-manager';
import { AppInstaller } from './app-installer';
import type { AppCatalogPort } from './app-ports';
import { parseAppSpec } from './app-spec';
import { deviceRecord, resolvedApp, testClock } from './apps-test-kit';
import { probeOnce } from './health-probe';
import { solo5Image } from './image-test-images';

const p = appPaths('counter');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-installer-solo5-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A device with solo5-spt and a catalog whose app has builds for `builds` only. */
function setup(image: Buffer, builds: Target[]) {
  const sha256 = createHash('sha256').update(image).digest('hex');
  const time = testClock();
  const fake = new FakeDevice();
  const tasks = new TaskManager({ clock: time.clock, publish: () => undefined });
  const asked: Target[] = [];
  const catalog: AppCatalogPort = {
    resolve: (appId, target) => {
      asked.push(target);
      if (!builds.includes(target))
        return Promise.reject(new HearthError('NOT_FOUND', `Counter has no build for ${target}.`));
      return Promise.resolve(
        resolvedApp({
          appId,
          target,
          artifact: {
            url: 'https://catalog.example/c',
            size: image.length,
            sha256,
            disk: 'virtio',
          },
        }),
      );
    },
    download: (_artifact, { onProgress }) => {
      const path = join(dir, 'download');
      writeFileSync(path, image);
      onProgress(image.length, image.length);
      return Promise.resolve(path);
    },
  };
  const device = deviceRecord({
    capabilities: { ...deviceRecord().capabilities, solo5Spt: true },
  });
  const installer = new AppInstaller({
    devices: { get: (id) => Promise.resolve({ ...device, id }) },
    tasks,
    catalog,
    // The real launcher: its refusal is what this is about.
    launcher: { files: (runtime, spec) => launcherFor(runtime, spec).files },
    client: (id) => Promise.resolve(new DeviceClient(fake, id)),
    clock: time.clock,
    sleep: time.sleep,
    probe: probeOnce,
    installing: () => undefined,
    refresh: () => Promise.resolve(),
  });
  const install = async () => {
    const id = await installer.install(device.id, 'counter');
    return new Promise<TaskSnapshot>((resolve) => {
      const check = () => {
        const task = tasks.list().find((t) => t.id === id);
        if (task && task.state !== 'running') resolve(task);
        else setTimeout(check, 1);
      };
      check();
    });
  };
  return { fake, asked, install, sha256 };
}

describe('installing a Solo5 build', () => {
  it('chooses the spt build on a device with solo5-spt and wires its manifest devices', async () => {
    const image = solo5Image(
      'spt',
      [
        { name: 'service', type: 'net' },
        { name: 'storage', type: 'block' },
      ],
      183,
    );
    const s = setup(image, ['qemu-aarch64', 'spt-aarch64']);
    const task = await s.install();
    expect(s.asked[0]).toBe('spt-aarch64');
    expect(task.state).toBe('succeeded');
    const spec = parseAppSpec(s.fake.text(p.spec) ?? '');
    expect(spec).toMatchObject({
      target: 'spt-aarch64',
      solo5: {
        devices: [
          { name: 'service', type: 'NET_BASIC' },
          { name: 'storage', type: 'BLOCK_BASIC' },
        ],
      },
    });
    const run = s.fake.text(p.run) ?? '';
    expect(run).toMatch(/^exec solo5-spt --mem=32 --net:service="\$tap0"/m);
    expect(run).toContain(`--block:storage=${p.volume('storage')}`);
    // The agent's network file: one tap, the published port forwarded to the unikernel.
    expect(s.fake.text(p.network)).toBe('nets 1\nforward tcp 8080 80\n');
  });

  it('falls back to the QEMU build when the app has no build for the tender', async () => {
    const s = setup(Buffer.from('a kernel'), ['qemu-aarch64']);
    const task = await s.install();
    expect(s.asked).toEqual(['spt-aarch64', 'qemu-aarch64']);
    expect(task.state).toBe('succeeded');
    expect(s.fake.text(p.network)).toBe('');
  });

  it('refuses an image whose manifest needs a device the app lacks, before sending it', async () => {
    const image = solo5Image('spt', [{ name: 'data', type: 'block' }], 183);
    const s = setup(image, ['spt-aarch64']);
    const task = await s.install();
    expect(task.state).toBe('failed');
    expect(task.error).toMatchObject({
      code: 'SOLO5_DEVICE_MISSING',
      message: expect.stringMatching(/storage device called data/) as string,
    });
    expect(s.fake.files.has(p.image(s.sha256))).toBe(false);
    expect([...s.fake.files.keys()].filter((k) => k.startsWith(p.dir))).toEqual([]);
  });
});
