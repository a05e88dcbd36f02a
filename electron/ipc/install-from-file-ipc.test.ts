import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InvokeChannel } from '../../shared/ipc';
import type { ChosenImage } from '../../shared/model';
import { createAppServices } from '../app-services';
import type { AppServicesOptions } from '../app-services';
import { multibootKernel } from '../services/apps/image-test-images';
import { FileKeyVault } from '../services/keys/file-key-vault';
import { silentLogger } from '../services/logger';
import { createHandle } from './handle';
import type { RawListener } from './handle';
import { registerIpc } from './register-ipc';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-ipc-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(chooseFile?: AppServicesOptions['chooseFile']) {
  const listeners = new Map<InvokeChannel, RawListener>();
  const handle = createHandle({
    registrar: { register: (c, l) => listeners.set(c, l) },
    isTrustedSender: () => true,
    log: silentLogger,
  });
  const services = createAppServices({
    userDataDir: dir,
    emit: () => undefined,
    log: silentLogger,
    info: { name: 'Hearth', version: '0.0.0', shell: 'browser', platform: 'linux' },
    keyVault: new FileKeyVault(join(dir, 'vault')),
    resourcesDir: join(import.meta.dirname, '..', '..', 'resources'),
    ...(chooseFile ? { chooseFile } : {}),
  });
  registerIpc(handle, services);
  return (channel: InvokeChannel, request?: unknown) =>
    listeners.get(channel)!({ url: 'app://hearth/', isMainFrame: true }, request);
}

const form = {
  token: 'A'.repeat(24),
  deviceId: '6f1c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
  name: 'Counter',
  memoryMiB: 32,
  disk: 'ide',
  volumes: [{ name: 'disk', sizeMiB: 1 }],
  ports: [{ guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp' }],
  bootArgs: '',
  health: { kind: 'console', pattern: 'READY' },
};

describe('apps:chooseImage', () => {
  it('answers what Hearth learned about the file the owner picked, with a token and no path', async () => {
    const path = join(dir, 'counter.elf');
    await writeFile(path, multibootKernel());
    const call = setup(() => Promise.resolve(path));
    const answer = await call('apps:chooseImage');
    expect(answer).toMatchObject({
      ok: true,
      value: { fileName: 'counter.elf', facts: { kind: 'kernel', format: 'multiboot' } },
    });
    expect(JSON.stringify(answer)).not.toContain(dir);
    // The token it answered is one installFromFile accepts (it then looks for the device).
    const token = (answer as { value: ChosenImage }).value.token;
    const install = await call('apps:installFromFile', { ...form, token });
    expect(install).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(JSON.stringify(install)).not.toContain('Choose it again');
  });

  it('answers null when the owner cancels the dialog', async () => {
    expect(await setup(() => Promise.resolve(null))('apps:chooseImage')).toEqual({
      ok: true,
      value: null,
    });
  });

  it('says choosing a file needs the desktop app where there is no dialog', async () => {
    expect(await setup()('apps:chooseImage')).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('needs the Hearth desktop app') as string },
    });
  });

  it('refuses any input at all', async () => {
    expect(await setup()('apps:chooseImage', { path: '/etc/passwd' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });
});

describe('apps:installFromFile', () => {
  it('asks for the file again when the token is unknown or expired', async () => {
    expect(await setup()('apps:installFromFile', form)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: expect.stringContaining('Choose it again') as string },
    });
  });

  it.each([
    ['a path instead of a token', { token: '/home/owner/app.elf' }],
    ['an extra field', { path: '/etc/shadow' }],
    ['no name', { name: '   ' }],
    ['a name with a control character', { name: 'Count\u0007er' }],
    ['too little memory', { memoryMiB: 4 }],
    ['an unknown disk interface', { disk: 'scsi' }],
    ['a volume name with a slash', { volumes: [{ name: '../etc', sizeMiB: 1 }] }],
    [
      'a volume listed twice',
      {
        volumes: [
          { name: 'a', sizeMiB: 1 },
          { name: 'a', sizeMiB: 1 },
        ],
      },
    ],
    ['a port out of range', { ports: [{ guest: 0, host: 8080, protocol: 'tcp' }] }],
    [
      'one device port published twice',
      {
        ports: [
          { guest: 80, host: 8080, protocol: 'tcp' },
          { guest: 81, host: 8080, protocol: 'tcp' },
        ],
      },
    ],
    [
      'a made-up service type',
      { ports: [{ guest: 80, host: 80, protocol: 'tcp', service: 'http' }] },
    ],
    ['boot arguments with a newline', { bootArgs: 'a\nb' }],
    ['an empty console pattern', { health: { kind: 'console', pattern: '' } }],
    ['a health check on an unpublished port', { health: { kind: 'tcp', port: 22 } }],
    ['an HTTP path that is not a path', { health: { kind: 'http', port: 80, path: 'x' } }],
  ])('refuses %s', async (_what, change) => {
    expect(await setup()('apps:installFromFile', { ...form, ...change })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });
});
