import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InvokeRequest } from '../../../shared/ipc';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths } from '../device/layout';
import type { AppCatalogPort } from './app-ports';
import { deviceRecord } from './apps-test-kit';
import { ChosenImages } from './chosen-images';
import { FileInstaller } from './file-installer';
import { multibootKernel } from './image-test-images';

const pc = deviceRecord({
  name: 'Study PC',
  capabilities: { ...deviceRecord().capabilities, arch: 'x86_64', rawArch: 'x86_64' },
});

let dir: string;
let fake: FakeDevice;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-file-installer-'));
  fake = new FakeDevice();
});
afterEach(() => {
  expect(fake.unknown).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

function setup(options: { seen?: string[]; chooseFile?: () => Promise<string | null> } = {}) {
  const images = new ChosenImages();
  const installs: { deviceId: string; appId: string; port: AppCatalogPort }[] = [];
  const files = new FileInstaller({
    devices: { get: () => Promise.resolve(pc) },
    images,
    installer: {
      install: (deviceId, appId, port) => {
        installs.push({ deviceId, appId, port: port! });
        return Promise.resolve(`task-${installs.length}`);
      },
    },
    monitor: { appIdsOn: () => options.seen ?? [] },
    client: (id) => Promise.resolve(new DeviceClient(fake, id)),
    ...(options.chooseFile ? { chooseFile: options.chooseFile } : {}),
  });
  return { files, images, installs };
}

function kernelFile(name = 'my-site.elf'): string {
  const path = join(dir, name);
  writeFileSync(path, multibootKernel());
  return path;
}

const request = (token: string): InvokeRequest<'apps:installFromFile'> => ({
  token,
  deviceId: pc.id,
  name: 'My Site',
  memoryMiB: 32,
  disk: 'virtio',
  volumes: [],
  ports: [{ guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp' }],
  bootArgs: '',
  health: { kind: 'tcp', port: 80 },
});

describe('FileInstaller', () => {
  it('says a file cannot be chosen where there is no file dialog', async () => {
    await expect(setup().files.chooseImage()).rejects.toMatchObject({
      code: 'NO_FILE_DIALOG',
      message:
        'Choosing a file from this computer needs the Hearth desktop app; this browser window cannot open one.',
    });
  });

  it('hands back nothing when the owner cancels the dialog, and the chosen image otherwise', async () => {
    expect(await setup({ chooseFile: () => Promise.resolve(null) }).files.chooseImage()).toBeNull();
    const path = kernelFile();
    const chosen = await setup({ chooseFile: () => Promise.resolve(path) }).files.chooseImage();
    expect(chosen).toMatchObject({ fileName: 'my-site.elf', problem: null });
    expect(JSON.stringify(chosen)).not.toContain(dir);
  });

  it('names the app after the owner’s name when nothing on the device uses it', async () => {
    const s = setup();
    const chosen = await s.images.choose(kernelFile());
    expect(await s.files.install(request(chosen.token))).toEqual({
      taskId: 'task-1',
      appId: 'my-site',
    });
    const resolved = await s.installs[0]!.port.resolve('my-site', 'qemu-x86_64');
    expect(resolved).toMatchObject({ origin: 'file', appId: 'my-site', name: 'My Site' });
  });

  it('never takes a folder the device keeps, even one with only kept data', async () => {
    const s = setup();
    fake.files.set(`${appPaths('my-site').data}/storage.img`, Buffer.from('someone’s data'));
    fake.installed({ appId: 'my-site-2', health: { kind: 'console', pattern: 'up' } });
    const chosen = await s.images.choose(kernelFile());
    expect((await s.files.install(request(chosen.token))).appId).toBe('my-site-3');
    expect(fake.text(`${appPaths('my-site').data}/storage.img`)).toBe('someone’s data');
  });

  it('never takes the id of an app Hearth sees there', async () => {
    const s = setup({ seen: ['my-site', 'my-site-2'] });
    const chosen = await s.images.choose(kernelFile());
    expect((await s.files.install(request(chosen.token))).appId).toBe('my-site-3');
  });

  it('gives a retried install of the same file the same id', async () => {
    const s = setup();
    const chosen = await s.images.choose(kernelFile());
    const first = await s.files.install(request(chosen.token));
    // The first try left a folder behind: a new id would avoid it, the retry must not.
    fake.files.set(`${appPaths(first.appId).images}/.dir`, Buffer.alloc(0));
    const again = await s.files.install(request(chosen.token));
    expect(again.appId).toBe(first.appId);
    expect(s.installs.map((i) => i.appId)).toEqual(['my-site', 'my-site']);
  });

  it('resumes an unfinished install of the same file chosen again (after Hearth restarted)', async () => {
    const s = setup();
    const chosen = await s.images.choose(kernelFile());
    // What an earlier Hearth left: a folder with a partial upload and no spec.json yet.
    fake.files.set(appPaths('my-site-4').partialImage(chosen.sha256), Buffer.from('half'));
    // A new Hearth (nothing remembered) and the file chosen again: a new token.
    const other = setup();
    const again = await other.images.choose(kernelFile('again.elf'));
    expect(again.token).not.toBe(chosen.token);
    expect((await other.files.install(request(again.token))).appId).toBe('my-site-4');
  });
});
