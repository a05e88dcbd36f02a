// The one window. Everything that makes it safe is set here and tested: isolation,
// sandbox, no Node in the page, no navigation away from the app, no new windows.
import type { BrowserWindow, BrowserWindowConstructorOptions, Shell, WebContents } from 'electron';
import { openExternalSafely } from './external-links';

export interface MainWindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  shell: Pick<Shell, 'openExternal'>;
}

export interface MainWindowOptions {
  preloadPath: string;
  /** The app's own page: app://hearth/index.html, or the dev server in `npm start`. */
  startUrl: string;
  iconPath?: string;
  onError?: (error: unknown) => void;
}

export const secureWebPreferences = (preloadPath: string) =>
  ({
    preload: preloadPath,
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
  deps: Pick<MainWindowDeps, 'shell'>,
  options: MainWindowOptions,
): void {
  const report = options.onError ?? (() => undefined);
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url, options.startUrl)) return;
    event.preventDefault();
    openExternalSafely(deps.shell, url).catch(report);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, options.startUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternalSafely(deps.shell, url).catch(report);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );
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
    webPreferences: secureWebPreferences(options.preloadPath),
  });
  lockDownContents(window.webContents, deps, options);
  window.once('ready-to-show', () => window.show());
  window.loadURL(options.startUrl).catch(options.onError ?? (() => undefined));
  return window;
}
