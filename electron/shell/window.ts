// The one window. Everything that makes it safe is set here and tested: isolation,
// sandbox, no Node in the page, no navigation away from the app, no new windows, no
// permissions, no DevTools in a packaged build.
import type { BrowserWindow, BrowserWindowConstructorOptions, Shell, WebContents } from 'electron';
import { openExternalSafely } from './external-links';
import type { DeviceLinkCheck } from './external-links';

export interface MainWindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  shell: Pick<Shell, 'openExternal'>;
  /** Whether an http link is an app's "Open" link on its device (see device-links.ts). */
  isDeviceLink: DeviceLinkCheck;
}

export interface MainWindowOptions {
  preloadPath: string;
  /** The app's own page: app://hearth/index.html, or the dev server in `npm start`. */
  startUrl: string;
  iconPath?: string;
  /**
   * False in a packaged build (`!app.isPackaged`): DevTools there would hand anyone at the
   * keyboard a console inside the page that holds window.hearth.
   */
  devTools: boolean;
  onError?: (error: unknown) => void;
}

export const secureWebPreferences = (preloadPath: string, devTools: boolean) =>
  ({
    preload: preloadPath,
    devTools,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    safeDialogs: true,
    navigateOnDragDrop: false,
  }) satisfies BrowserWindowConstructorOptions['webPreferences'];

/**
 * scheme://host[:port], computed by hand: WHATWG URL reports origin "null" for schemes
 * it does not know (app://), though Chromium treats our registered scheme as standard.
 */
export function originOf(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.host ? `${url.protocol}//${url.host}` : null;
  } catch {
    return null;
  }
}

/** True when `url` is a page of the app itself (same origin as the start page). */
export function isAppUrl(url: string | null | undefined, startUrl: string): boolean {
  if (!url) return false;
  const origin = originOf(url);
  return origin !== null && origin === originOf(startUrl);
}

export function lockDownContents(
  contents: WebContents,
  deps: Pick<MainWindowDeps, 'shell' | 'isDeviceLink'>,
  options: MainWindowOptions,
): void {
  const report = options.onError ?? (() => undefined);
  const openOutside = (url: string) =>
    openExternalSafely(deps.shell, url, deps.isDeviceLink).catch(report);
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url, options.startUrl)) return;
    event.preventDefault();
    void openOutside(url);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, options.startUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // The app's own links use target=_blank, so "Open" arrives here; the check is async, the
  // answer to Chromium is not: deny the window now, open in the browser once confirmed.
  contents.setWindowOpenHandler(({ url }) => {
    void openOutside(url);
    return { action: 'deny' };
  });
  // The page needs no permission at all: refuse every request (camera, notifications, …),
  // answer every synchronous check "no" (navigator.permissions, clipboard reads, …) and
  // give it no USB, HID or serial device.
  contents.session.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
  contents.session.setPermissionCheckHandler(() => false);
  contents.session.setDevicePermissionHandler(() => false);
  // devTools: false already keeps them shut; should anything open them anyway, close them.
  if (!options.devTools) contents.on('devtools-opened', () => contents.closeDevTools());
}

export function createMainWindow(deps: MainWindowDeps, options: MainWindowOptions): BrowserWindow {
  const window = new deps.BrowserWindow({
    width: 1100,
    height: 720,
    minWidth: 800,
    minHeight: 600,
    title: 'Hearth',
    show: false,
    ...(options.iconPath ? { icon: options.iconPath } : {}),
    webPreferences: secureWebPreferences(options.preloadPath, options.devTools),
  });
  lockDownContents(window.webContents, deps, options);
  window.once('ready-to-show', () => window.show());
  window.loadURL(options.startUrl).catch(options.onError ?? (() => undefined));
  return window;
}
