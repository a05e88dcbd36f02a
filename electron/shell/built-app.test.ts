// Builds main and preload exactly as Forge does (the same Vite configs), then runs the
// bundles in Node with Electron's modules injected: proof that the composition root wires
// the secure window, the app:// protocol and every IPC channel, and that the preload
// exposes one object and nothing else. (No Electron binary can be fetched on CI.)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hearthApiKeys } from '../../shared/hearth-api';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeChannels } from '../../shared/ipc';
import { FakeBrowserWindow } from './fake-electron';

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

describe('the built main process', () => {
  const handlers = new Map<string, (event: unknown, request: unknown) => Promise<unknown>>();
  const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();
  const appEvents = new Map<string, () => void>();
  let privileged: unknown[] = [];

  beforeAll(async () => {
    FakeBrowserWindow.created.length = 0;
    process.env.HEARTH_DISCOVERY = 'off';
    loadWithElectron(join(dir, 'build', 'main.cjs'), {
      app: {
        requestSingleInstanceLock: () => true,
        quit: () => undefined,
        on: (event: string, fn: () => void) => appEvents.set(event, fn),
        getPath: () => join(dir, 'user-data'),
        getVersion: () => '9.9.9',
        whenReady: () => Promise.resolve(),
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
      shell: { openExternal: () => Promise.resolve() },
    });
    // whenReady() resolves on a microtask; the window follows right after.
    for (let i = 0; i < 50 && FakeBrowserWindow.created.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
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
