import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeBrowserWindow, fakeShell, navigationEvent } from './fake-electron';
import { createMainWindow, isAppUrl } from './window';

const startUrl = 'app://hearth/index.html';
/** The one "Open" link main says an app publishes on its device, in these tests. */
const deviceLink = 'http://raspberrypi.local:8080/';

function open({ devTools = false } = {}) {
  const shell = fakeShell();
  const asked: string[] = [];
  const window = createMainWindow(
    {
      BrowserWindow: FakeBrowserWindow as unknown as new (
        o: BrowserWindowConstructorOptions,
      ) => BrowserWindow,
      shell,
      isDeviceLink: (url) => (asked.push(url), Promise.resolve(url === deviceLink)),
    },
    { preloadPath: '/app/preload.cjs', startUrl, devTools },
  ) as unknown as FakeBrowserWindow;
  return { window, shell, asked, contents: window.webContents };
}

/** Lets the asynchronous device-link check answer. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  FakeBrowserWindow.created.length = 0;
});

describe('the main window', () => {
  it('isolates the page: context isolation, sandbox, no Node, web security on', () => {
    const { window } = open();
    expect(window.options.webPreferences).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(window.loadedUrl).toBe(startUrl);
  });

  it('shows itself only once the page is ready (no white flash)', () => {
    const { window } = open();
    expect(window.shown).toBe(false);
    window.emit('ready-to-show');
    expect(window.shown).toBe(true);
  });

  it('never navigates away from the app; https links go to the owner’s browser', async () => {
    const { contents, shell } = open();
    const inside = navigationEvent();
    contents.emit('will-navigate', inside, 'app://hearth/index.html#activity');
    expect(inside.prevented).toBe(false);
    for (const url of [
      'https://example.org/help',
      'http://example.org/',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      const event = navigationEvent();
      contents.emit('will-navigate', event, url);
      expect(event.prevented).toBe(true);
    }
    await settle();
    expect(shell.opened).toEqual(['https://example.org/help']);
  });

  it('denies every new window, opening only https links externally', async () => {
    const { contents, shell } = open();
    for (const url of [
      'https://example.org/',
      'http://example.org/',
      'smb://nas/share',
      'https://user:pw@example.org/',
    ]) {
      expect(contents.windowOpenHandler!({ url })).toEqual({ action: 'deny' });
    }
    await settle();
    expect(shell.opened).toEqual(['https://example.org/']);
  });

  it('opens an app’s http "Open" link in the browser once main confirms it is the device’s', async () => {
    const { contents, shell, asked } = open();
    // The card's link is target=_blank: a new-window request, denied and opened outside.
    expect(contents.windowOpenHandler!({ url: deviceLink })).toEqual({ action: 'deny' });
    for (const url of [
      'http://raspberrypi.local:9090/', // a port the app does not publish
      'http://evil.example:8080/',
      'http://pi:secret@raspberrypi.local:8080/',
    ])
      contents.windowOpenHandler!({ url });
    const navigation = navigationEvent();
    contents.emit('will-navigate', navigation, deviceLink);
    expect(navigation.prevented).toBe(true);
    await settle();
    expect(shell.opened).toEqual([deviceLink, deviceLink]);
    // Links with credentials never reach the check; https and other schemes never need it.
    expect(asked).toEqual([
      deviceLink,
      'http://raspberrypi.local:9090/',
      'http://evil.example:8080/',
      deviceLink,
    ]);
  });

  it('turns DevTools off in a packaged build, and closes them should they open anyway', () => {
    const packaged = open({ devTools: false });
    expect(packaged.window.options.webPreferences?.devTools).toBe(false);
    packaged.contents.emit('devtools-opened');
    expect(packaged.contents.devToolsClosed).toBe(1);
    const dev = open({ devTools: true });
    expect(dev.window.options.webPreferences?.devTools).toBe(true);
    dev.contents.emit('devtools-opened');
    expect(dev.contents.devToolsClosed).toBe(0);
  });

  it('blocks redirects out of the app, webviews and every permission request', () => {
    const { contents } = open();
    const redirect = navigationEvent();
    contents.emit('will-redirect', redirect, 'https://elsewhere.example/');
    expect(redirect.prevented).toBe(true);
    const webview = navigationEvent();
    contents.emit('will-attach-webview', webview);
    expect(webview.prevented).toBe(true);
    let granted: boolean | null = null;
    contents.permissionHandler!(contents, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
  });

  it('answers every permission check "no" and gives the page no USB, HID or serial device', () => {
    const { contents } = open();
    for (const permission of ['clipboard-read', 'media', 'notifications', 'geolocation', 'hid'])
      expect(contents.permissionCheckHandler!(contents, permission)).toBe(false);
    expect(contents.devicePermissionHandler!({ deviceType: 'usb' })).toBe(false);
  });
});

describe('isAppUrl', () => {
  it('accepts only the start page’s origin', () => {
    expect(isAppUrl('app://hearth/assets/x.js', startUrl)).toBe(true);
    expect(isAppUrl('app://evil/index.html', startUrl)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('file:///index.html', 'file:///index.html')).toBe(false);
    expect(isAppUrl(null, startUrl)).toBe(false);
    expect(isAppUrl('not a url', startUrl)).toBe(false);
  });
});
