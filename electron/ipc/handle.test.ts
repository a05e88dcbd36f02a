import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../shared/errors';
import { invokeChannels } from '../../shared/ipc';
import type { InvokeChannel } from '../../shared/ipc';
import { createAppServices } from '../app-services';
import { FileKeyVault } from '../services/keys/file-key-vault';
import { silentLogger } from '../services/logger';
import { createHandle } from './handle';
import type { RawListener, SenderInfo } from './handle';
import { registerIpc } from './register-ipc';

const app: SenderInfo = { url: 'app://hearth/index.html', isMainFrame: true };

function setup() {
  const listeners = new Map<InvokeChannel, RawListener>();
  const handle = createHandle({
    registrar: { register: (c, l) => listeners.set(c, l) },
    isTrustedSender: (s) => s.isMainFrame && s.url?.startsWith('app://hearth/') === true,
    log: silentLogger,
  });
  const call = (channel: InvokeChannel, request?: unknown, sender = app) =>
    listeners.get(channel)!(sender, request);
  return { handle, call, listeners };
}

describe('handle()', () => {
  it('answers a valid request from the app', async () => {
    const { handle, call } = setup();
    handle('tasks:cancel', ({ id }) => ({ cancelled: id === 'abc' }));
    expect(await call('tasks:cancel', { id: 'abc' })).toEqual({
      ok: true,
      value: { cancelled: true },
    });
  });

  it('refuses senders that are not the app’s own top-level page, before running anything', async () => {
    const { handle, call } = setup();
    let ran = false;
    handle('tasks:list', () => ((ran = true), []));
    for (const sender of [
      { url: 'https://evil.example/', isMainFrame: true },
      { url: 'app://hearth/index.html', isMainFrame: false },
      { url: null, isMainFrame: true },
    ]) {
      expect(await call('tasks:list', undefined, sender)).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN_SENDER' },
      });
    }
    expect(ran).toBe(false);
  });

  it('refuses input that does not match the channel’s schema', async () => {
    const { handle, call } = setup();
    handle('tasks:cancel', () => ({ cancelled: true }));
    for (const bad of [
      undefined,
      {},
      { id: 42 },
      { id: '../../etc' },
      { id: 'a', extra: 1 },
      'abc',
    ]) {
      expect(await call('tasks:cancel', bad)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT' },
      });
    }
    handle('settings:update', (p) => ({
      theme: p.theme ?? 'system',
      welcomeDone: false,
      allowUnprotectedKey: false,
      startAtLogin: false,
      closeToTrayNoticeShown: false,
    }));
    expect(await call('settings:update', { theme: 'neon' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });

  it('passes owner-readable errors through and hides everything else', async () => {
    const { handle, call } = setup();
    handle('tasks:list', () => {
      throw new HearthError('DISK_FULL');
    });
    handle('tasks:clearFinished', () => {
      throw new Error('EACCES: /home/someone/.config/Hearth');
    });
    expect(await call('tasks:list')).toEqual({
      ok: false,
      error: { code: 'DISK_FULL', message: expect.stringContaining('disk is full') as string },
    });
    const hidden = await call('tasks:clearFinished');
    expect(hidden).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(hidden)).not.toContain('/home/someone');
  });

  it('refuses to register a channel twice or one outside the map', () => {
    const { handle } = setup();
    handle('tasks:list', () => []);
    expect(() => handle('tasks:list', () => [])).toThrow('registered twice');
    expect(() => handle('nope:never' as InvokeChannel, () => undefined as never)).toThrow(
      'not in the channel map',
    );
  });
});

describe('registerIpc()', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-ipc-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives every channel of the contract a handler', () => {
    const { handle } = setup();
    const services = createAppServices({
      userDataDir: dir,
      emit: () => undefined,
      log: silentLogger,
      info: { name: 'Hearth', version: '0.0.0', shell: 'browser', platform: 'linux' },
      keyVault: new FileKeyVault(join(dir, 'vault')),
      resourcesDir: join(import.meta.dirname, '..', '..', 'resources'),
    });
    registerIpc(handle, services);
    expect(handle.registered().sort()).toEqual([...invokeChannels].sort());
  });
});
