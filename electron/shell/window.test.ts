import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeBrowserWindow, fakeShell, navigationEvent } from './fake-electron';
import { createMainWindow, isAppUrl } from './window';

const startUrl = 'app://hearth/index.html';

function open() {
  const shell = fakeShell();
  const window = createMainWindow(
    {
      BrowserWindow: FakeBrowserWindow as unknown as new (
        o: BrowserWindowConstructorOptions,
      ) => BrowserWindow,
      shell,
    },
    { preloadPath: '/app/preload.cjs', startUrl },
  ) as unknown as FakeBrowserWindow;
  return { window, shell, contents: window.webContents };
}

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

  it('never navigates away from the app; https links go to the owner’s browser', () => {
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
    expect(shell.opened).toEqual(['https://example.org/help']);
  });

  it('denies every new window, opening only https links externally', () => {
    const { contents, shell } = open();
    for (const url of [
      'https://example.org/',
      'http://example.org/',
      'smb://nas/share',
      'https://user:pw@example.org/',
    ]) {
      expect(contents.windowOpenHandler!({ url })).toEqual({ action: 'deny' });
    }
    expect(shell.opened).toEqual(['https://example.org/']);
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
