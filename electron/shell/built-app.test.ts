// Builds main and preload exactly as Forge does (the same Vite configs), then runs the
// bundles in Node with Electron's modules injected: proof that the composition root wires
// the secure window, the app:// protocol and every IPC channel, that an app's http "Open"
// link leaves for the browser only to its own device, and that the preload exposes one
// object and nothing else. (No Electron binary can be fetched on CI.) The packaged app's
// fuses are proven beside this, in fuses.test.ts. Its self-update is electron-updater itself,
// bundled, reading a feed served here: a download that does not match is refused.
import type { ServerChannel } from 'ssh2';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { RequestOptions, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hearthApiKeys } from '../../shared/hearth-api';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMessages } from '../../shared/errors';
import { invokeChannels } from '../../shared/ipc';
import type { InstalledApp } from '../../shared/model';
import { DeviceStore } from '../services/devices/device-store';
import { ensureInstallKey } from '../services/keys/install-key';
import { FakeSshDevice } from '../services/ssh/fake-ssh-device';
import { AtomicJsonStore } from '../services/store/atomic-json-store';
import type { MenuItemConstructorOptions } from 'electron';
import {
  FakeBrowserWindow,
  FakeMenu,
  fakeNativeImage,
  FakeNotification,
  fakeShell,
  FakeTray,
  navigationEvent,
} from './fake-electron';
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
  for (const name of ['HEARTH_SELF_UPDATE_FIRST_CHECK_MS', 'APPIMAGE', 'XDG_CACHE_HOME'])
    delete process.env[name];
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

/** Every command the device was sent, in order. */
const deviceCommands: string[] = [];

/** Answers Hearth's status command the way a prepared device does; anything else succeeds. */
function deviceAnswers(command: string, channel: ServerChannel): void {
  deviceCommands.push(command);
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

/**
 * The release feed as electron-builder publishes it (latest-linux.yml) offering Hearth 10.0.0,
 * whose download arrives with bytes other than the ones the feed's sha512 names.
 */
async function corruptFeed(): Promise<{ server: Server; url: string; fetched: string[] }> {
  const published = Buffer.from('the Hearth 10.0.0 AppImage');
  const sha512 = createHash('sha512').update(published).digest('base64');
  const fetched: string[] = [];
  const feed = [
    'version: 10.0.0',
    'files:',
    '  - url: Hearth-10.0.0.AppImage',
    `    sha512: ${sha512}`,
    `    size: ${published.length}`,
    'path: Hearth-10.0.0.AppImage',
    `sha512: ${sha512}`,
    "releaseDate: '2026-12-01T00:00:00.000Z'",
    'releaseNotes: Backups to a second device.',
  ].join('\n');
  const server = createServer((req, res) => {
    fetched.push(req.url ?? '');
    if (req.url?.startsWith('/latest-linux')) return void res.end(feed);
    if (req.url === '/Hearth-10.0.0.AppImage') return void res.end('the Hearth 10.0.0 AppImagE');
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, fetched };
}

/** Electron's net.request, as electron-updater uses it, over Node's http. */
const fakeNet = {
  request: ({ protocol, hostname, port, path, method, headers }: RequestOptions) =>
    httpRequest({ protocol, hostname, port, path, method, headers }),
};

describe('the built main process', () => {
  const handlers = new Map<string, (event: unknown, request: unknown) => Promise<unknown>>();
  const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();
  const appEvents = new Map<string, () => void>();
  const shell = fakeShell();
  let privileged: unknown[] = [];
  let device: FakeSshDevice;
  let feed: Awaited<ReturnType<typeof corruptFeed>>;
  const messageBoxes: string[] = [];
  let quits = 0;
  const path = process.env.PATH;

  beforeAll(async () => {
    FakeBrowserWindow.created.length = 0;
    process.env.HEARTH_DISCOVERY = 'off';
    // A desktop whose panel shows StatusNotifier items: D-Bus says a host is registered.
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'gdbus'), '#!/bin/sh\necho "(<true>,)"\n', { mode: 0o755 });
    process.env.PATH = `${bin}:${path}`;
    // A packaged app finds its catalog next to itself, and its update feed (app-update.yml,
    // written by electron-builder from publish in electron-builder.yml).
    feed = await corruptFeed();
    const resources = join(dir, 'resources');
    mkdirSync(resources);
    symlinkSync(join(root, 'resources', 'catalog'), join(resources, 'catalog'));
    symlinkSync(join(root, 'resources', 'tray'), join(resources, 'tray'));
    writeFileSync(
      join(resources, 'app-update.yml'),
      `provider: generic\nurl: ${feed.url}\nupdaterCacheDirName: hearth-updater\n`,
    );
    Object.assign(process, { resourcesPath: resources });
    // The running Hearth, as an AppImage; electron-updater keeps downloads in the cache.
    process.env.APPIMAGE = join(dir, 'Hearth-9.9.9.AppImage');
    writeFileSync(process.env.APPIMAGE, 'the running Hearth');
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    process.env.HEARTH_SELF_UPDATE_FIRST_CHECK_MS = '1';
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
        solo5Spt: false,
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
        quit: () => void quits++,
        on: (event: string, fn: () => void) => appEvents.set(event, fn),
        getPath: () => userData,
        getVersion: () => '9.9.9',
        getName: () => 'Hearth',
        once: () => undefined,
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
      session: {
        defaultSession: { webRequest: { onHeadersReceived: () => undefined } },
        fromPartition: () => ({}),
      },
      net: fakeNet,
      safeStorage: keyring,
      shell,
      Tray: FakeTray,
      Menu: FakeMenu,
      nativeImage: fakeNativeImage,
      Notification: FakeNotification,
      dialog: {
        showMessageBox: (...args: unknown[]) => {
          messageBoxes.push((args.at(-1) as { message: string }).message);
          return Promise.resolve({ response: 0, checkboxChecked: false });
        },
      },
    });
    // whenReady() resolves on a microtask; the window follows right after.
    for (let i = 0; i < 50 && FakeBrowserWindow.created.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
  });

  afterAll(async () => {
    process.env.PATH = path;
    appEvents.get('before-quit')?.();
    await device.stop();
    feed.server.close();
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

  // Linux only: the running Hearth here is an AppImage, the one package electron-updater
  // replaces in place; macOS and Windows updates go through Squirrel/NSIS, run by the pipeline.
  it.runIf(process.platform === 'linux')(
    'checks the release feed, refuses a download that does not match it, and keeps running (Linux: AppImage)',
    async () => {
      const window = FakeBrowserWindow.created[0]!;
      const told = () =>
        window.webContents.sent.filter(([channel]) => channel === 'app:selfUpdate');
      for (let i = 0; i < 200 && told().length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(feed.fetched).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\/latest-linux(-arm64)?\.yml/),
          '/Hearth-10.0.0.AppImage',
        ]),
      );
      expect(told()).toEqual([
        [
          'app:selfUpdate',
          { state: 'failed', version: '10.0.0', message: errorMessages.SELF_UPDATE_FAILED },
        ],
      ]);
      expect(readFileSync(process.env.APPIMAGE!, 'utf8')).toBe('the running Hearth');
      const fromApp = { sender: window.webContents, senderFrame: window.webContents.mainFrame };
      expect(await handlers.get('app:restartToUpdate')!(fromApp, undefined)).toMatchObject({
        ok: false,
        error: { code: 'SELF_UPDATE_NONE' },
      });
    },
    15_000,
  );

  it('puts the household in the tray, whose Stop reaches the app on its device', async () => {
    const submenu = (items: MenuItemConstructorOptions[], label: string) =>
      (items.find((i) => i.label === label)?.submenu as MenuItemConstructorOptions[]) ?? [];
    let counter: MenuItemConstructorOptions[] = [];
    for (let i = 0; i < 200 && !counter.find((i) => i.label === 'Stop')?.enabled; i++) {
      await new Promise((r) => setTimeout(r, 50));
      counter = submenu(FakeTray.created[0]?.menu ?? [], 'Counter');
    }
    const tray = FakeTray.created[0]!;
    // The alerts' summary counts devices once their watch starts, which this test's
    // HEARTH_DISCOVERY=off leaves out; the apps it counts as they are.
    expect(tray.menu[0]!.label).toMatch(/, 1 app running$/);
    expect(tray.menu.map((i) => i.label)).toContain('Living room Pi');
    expect(tray.image.path).toBe(join(dir, 'resources', 'tray', 'tray-color.png'));
    const stop = counter.find((i) => i.label === 'Stop')!;
    (stop.click as unknown as () => void)();
    await expect
      .poll(() => deviceCommands.some((c) => /\bstop counter\b/.test(c)), { timeout: 10_000 })
      .toBe(true);
  }, 15_000);

  it('keeps running in the tray when the window is closed, and says so', async () => {
    const window = FakeBrowserWindow.created[0]!;
    const close = navigationEvent();
    window.emit('close', close);
    expect(close.prevented).toBe(true);
    appEvents.get('window-all-closed')?.();
    expect(quits).toBe(0);
    await expect.poll(() => messageBoxes).toContain('Hearth is still running');
    window.show();
  });

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
    const changed = window.webContents.sent.filter(([channel]) => channel === 'settings:changed');
    // closeToTrayNoticeShown is whatever closing the window earlier left it.
    expect(changed.at(-1)?.[1]).toMatchObject({
      theme: 'dark',
      welcomeDone: false,
      allowUnprotectedKey: false,
      startAtLogin: false,
    });
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
