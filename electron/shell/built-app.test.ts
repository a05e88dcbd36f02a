// Builds main and preload exactly as Forge does (the same Vite configs), then runs the
// bundles in Node with Electron's modules injected: proof that the composition root wires
// the secure window, the app:// protocol and every IPC channel, that an app's http "Open"
// link leaves for the browser only to its own device, and that the preload exposes one
// object and nothing else. (No Electron binary can be fetched on CI.) The packaged app's
// fuses are proven beside this, in fuses.test.ts.
import type { ServerChannel } from 'ssh2';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hearthApiKeys } from '../../shared/hearth-api';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeChannels } from '../../shared/ipc';
import type { InstalledApp } from '../../shared/model';
import { DeviceStore } from '../services/devices/device-store';
import { ensureInstallKey } from '../services/keys/install-key';
import { FakeSshDevice } from '../services/ssh/fake-ssh-device';
import { AtomicJsonStore } from '../services/store/atomic-json-store';
import { FakeBrowserWindow, fakeShell } from './fake-electron';
import { SafeStorageVault } from './safe-storage-vault';

let dir: string;
const root = join(import.meta.dirname, '..', '..');

async function bundle(config: string) {
  await build({
    configFile: join(root, config),
    root,
    logLevel: 'silent',
    build: { outDir: join(dir, 'build'), sourcemap: false },
  });
}

/** Loads a CommonJS bundle with `require('electron')` answered by `fake`. */
function loadWithElectron(file: string, fake: unknown) {
  const electronDir = join(dir, 'build', 'node_modules', 'electron');
  mkdirSync(electronDir, { recursive: true });
  // Resolved per property, so each bundle sees the fake installed for it.
  writeFileSync(
    join(electronDir, 'index.js'),
    'module.exports = new Proxy({}, { get: (_, key) => globalThis.__fakeElectron[key] });',
  );
  (globalThis as Record<string, unknown>).__fakeElectron = fake;
  createRequire(import.meta.url)(file);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-built-'));
  await bundle('electron/vite.main.config.ts');
  await bundle('electron/vite.preload.config.ts');
  const rendererDir = join(dir, 'renderer', 'main_window');
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Hearth</title>');
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.HEARTH_DISCOVERY;
  delete (globalThis as Record<string, unknown>).__fakeElectron;
});

/** The OS keyring, as far as the vault can tell: available, and reversible. */
const keyring = {
  isEncryptionAvailable: () => true,
  encryptString: (text: string) => Buffer.from(`sealed:${text}`),
  decryptString: (sealed: Buffer) => sealed.toString().slice('sealed:'.length),
  getSelectedStorageBackend: () => 'gnome_libsecret' as const,
};

/** The lab Pi's Counter, as the device reports it: running, published on port 8080. */
const counterSpec = {
  appId: 'counter',
  name: 'Counter',
  version: '1.0.0',
  target: 'qemu-x86_64',
  sha256: 'a'.repeat(64),
  disk: 'virtio',
  memoryMiB: 32,
  volumes: [{ name: 'data', sizeMiB: 8 }],
  ports: [
    { name: 'web', guest: 80, host: 8080, protocol: 'tcp', service: '_http._tcp', path: '/' },
  ],
  bootArgs: '',
  health: { kind: 'console', pattern: 'READY' },
  accel: 'tcg',
  installedAt: '2026-12-01T10:00:00.000Z',
};

/** Answers Hearth's status command the way a prepared device does; anything else succeeds. */
function deviceAnswers(command: string, channel: ServerChannel): void {
  if (command.includes('@app'))
    channel.write(
      [
        '@app counter',
        `Spec=${JSON.stringify(counterSpec)}`,
        'ActiveState=active',
        'SubState=running',
        'Result=success',
        'NRestarts=0',
        'UnitFileState=enabled',
        'Healthy=yes',
        '',
      ].join('\n'),
    );
  channel.exit(0);
  channel.end();
}

describe('the built main process', () => {
  const handlers = new Map<string, (event: unknown, request: unknown) => Promise<unknown>>();
  const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();
  const appEvents = new Map<string, () => void>();
  const shell = fakeShell();
  let privileged: unknown[] = [];
  let device: FakeSshDevice;

  beforeAll(async () => {
    FakeBrowserWindow.created.length = 0;
    process.env.HEARTH_DISCOVERY = 'off';
    // A packaged app finds its catalog next to itself.
    Object.assign(process, { resourcesPath: join(root, 'resources') });
    // A device this computer prepared earlier: its record, and Hearth's key in the vault.
    const userData = join(dir, 'user-data');
    const installKey = await ensureInstallKey(
      new SafeStorageVault({ dir: join(userData, 'vault'), safeStorage: keyring }),
    );
    device = await FakeSshDevice.start({
      username: 'hearth',
      authorizedKeys: [installKey.publicKey],
      onCommand: deviceAnswers,
    });
    await new DeviceStore(new AtomicJsonStore(join(userData, 'state')), () => undefined).save({
      id: '7d2c1f0e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
      name: 'Living room Pi',
      hostKeyFingerprint: device.hostKeyFingerprint,
      addresses: ['127.0.0.1'],
      hostname: 'raspberrypi',
      sshPort: device.port,
      capabilities: {
        arch: 'x86_64',
        rawArch: 'x86_64',
        os: { id: 'debian', name: 'Debian GNU/Linux', version: '12', debianFamily: true },
        xenDom0: false,
        kvmDevice: false,
        qemu: true,
        solo5Hvt: false,
        restic: true,
        avahi: true,
        systemd: true,
        memoryBytes: 4 * 2 ** 30,
        freeDiskBytes: 20 * 2 ** 30,
      },
      hypervisor: 'qemu',
      provisionedAt: 1_764_000_000_000,
    });
    loadWithElectron(join(dir, 'build', 'main.cjs'), {
      app: {
        requestSingleInstanceLock: () => true,
        quit: () => undefined,
        on: (event: string, fn: () => void) => appEvents.set(event, fn),
        getPath: () => userData,
        getVersion: () => '9.9.9',
        whenReady: () => Promise.resolve(),
        isPackaged: true,
      },
      BrowserWindow: FakeBrowserWindow,
      ipcMain: {
        handle: (channel: string, fn: (e: unknown, r: unknown) => Promise<unknown>) =>
          handlers.set(channel, fn),
      },
      protocol: {
        registerSchemesAsPrivileged: (schemes: unknown[]) => (privileged = schemes),
        handle: (scheme: string, fn: (r: Request) => Promise<Response>) =>
          protocolHandlers.set(scheme, fn),
      },
      session: { defaultSession: { webRequest: { onHeadersReceived: () => undefined } } },
      safeStorage: keyring,
      shell,
    });
    // whenReady() resolves on a microtask; the window follows right after.
    for (let i = 0; i < 50 && FakeBrowserWindow.created.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
  });

  afterAll(async () => {
    appEvents.get('before-quit')?.();
    await device.stop();
    delete (process as { resourcesPath?: string }).resourcesPath;
  });

  it('opens an app’s http link to its device in the browser, and one to another host not', async () => {
    const window = FakeBrowserWindow.created[0]!;
    const fromApp = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
    // What the Apps page shows once main has read the device over SSH.
    let apps: InstalledApp[] = [];
    for (let i = 0; i < 200 && !apps[0]?.links.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      apps = ((await handlers.get('apps:list')!(fromApp, undefined)) as { value: InstalledApp[] })
        .value;
    }
    expect(apps).toMatchObject([
      { appId: 'counter', state: 'running', links: [{ url: 'http://127.0.0.1:8080/' }] },
    ]);
    // The card's "Open Counter" is a target=_blank link: Chromium asks for a new window.
    const open = (url: string) => window.webContents.windowOpenHandler!({ url });
    expect(open('http://127.0.0.1:8080/')).toEqual({ action: 'deny' });
    for (const url of [
      'http://198.18.0.99:8080/', // another host on the LAN
      'http://evil.example:8080/',
      'http://127.0.0.1:9999/', // the device, but a port no app publishes
      'http://127.0.0.1:8080/admin',
    ])
      expect(open(url)).toEqual({ action: 'deny' });
    await new Promise((r) => setTimeout(r, 50));
    expect(shell.opened).toEqual(['http://127.0.0.1:8080/']);
    // An SSH sign-in and the first status round can take seconds on a busy 2-core machine.
  }, 15_000);

  it('is packaged without DevTools and with every permission check refused', () => {
    const window = FakeBrowserWindow.created[0]!;
    expect(window.options.webPreferences?.devTools).toBe(false);
    const contents = window.webContents;
    expect(contents.permissionCheckHandler!(contents, 'clipboard-read')).toBe(false);
    let granted: boolean | null = null;
    contents.permissionHandler!(contents, 'notifications', (ok) => (granted = ok));
    expect(granted).toBe(false);
  });

  it('opens one secure window on the app:// page with the built preload', () => {
    const window = FakeBrowserWindow.created[0]!;
    expect(window.loadedUrl).toBe('app://hearth/index.html');
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    });
    expect(window.options.webPreferences?.preload).toBe(join(dir, 'build', 'preload.cjs'));
    expect(privileged).toEqual([expect.objectContaining({ scheme: 'app' })]);
  });

  it('serves the renderer through app:// with the CSP', async () => {
    const response = await protocolHandlers.get('app')!(new Request('app://hearth/index.html'));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Hearth</title>');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('handles every channel, for the app’s own frame only', async () => {
    expect([...handlers.keys()].sort()).toEqual([...invokeChannels].sort());
    const window = FakeBrowserWindow.created[0]!;
    const mainFrame = window.webContents.mainFrame;
    const fromApp = { sender: window.webContents, senderFrame: mainFrame };
    expect(await handlers.get('app:info')!(fromApp, undefined)).toMatchObject({
      ok: true,
      value: { version: '9.9.9', shell: 'electron' },
    });
    const fromIframe = {
      sender: window.webContents,
      senderFrame: { url: 'app://hearth/index.html' },
    };
    expect(await handlers.get('app:info')!(fromIframe, undefined)).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN_SENDER' },
    });
    const fromElsewhere = {
      sender: window.webContents,
      senderFrame: { url: 'https://evil.example/' },
    };
    mainFrame.url = 'https://evil.example/';
    expect(
      await handlers.get('app:info')!({ ...fromElsewhere, senderFrame: mainFrame }, undefined),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    mainFrame.url = 'app://hearth/index.html';
  });

  it('sends events to the window', async () => {
    const window = FakeBrowserWindow.created[0]!;
    const fromApp = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
    await handlers.get('settings:update')!(fromApp, { theme: 'dark' });
    expect(window.webContents.sent).toContainEqual([
      'settings:changed',
      { theme: 'dark', welcomeDone: false, allowUnprotectedKey: false },
    ]);
  });
});

describe('the built preload', () => {
  it('exposes exactly one object, window.hearth, that only invokes mapped channels', async () => {
    const exposed = new Map<string, unknown>();
    const invoked: [string, unknown][] = [];
    loadWithElectron(join(dir, 'build', 'preload.cjs'), {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
      ipcRenderer: {
        invoke: (channel: string, request: unknown) => {
          invoked.push([channel, request]);
          return Promise.resolve({ ok: false, error: { code: 'NOT_FOUND', message: 'Gone.' } });
        },
        on: () => undefined,
        removeListener: () => undefined,
      },
    });
    expect([...exposed.keys()]).toEqual(['hearth']);
    const hearth = exposed.get('hearth') as Record<
      string,
      Record<string, (r?: unknown) => Promise<unknown>>
    >;
    expect(Object.keys(hearth).sort()).toEqual(hearthApiKeys);
    expect(hearth).not.toHaveProperty('ipcRenderer');
    const rejection = await hearth.tasks!.cancel!({ id: 'x' }).catch((e: unknown) => e);
    expect(invoked).toEqual([['tasks:cancel', { id: 'x' }]]);
    // What crosses the contextBridge must keep its code: a plain, cloneable object.
    expect(structuredClone(rejection)).toEqual({ code: 'NOT_FOUND', message: 'Gone.' });
  });
});
