// Composition root: builds the services, wires IPC, the protocol and the window.
// Bundled to CommonJS (.vite/build/main.cjs), hence __dirname.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { join } from 'node:path';
import { createAppServices } from './app-services';
import { contentSecurityPolicy } from './csp';
import { createHandle } from './ipc/handle';
import { registerIpc } from './ipc/register-ipc';
import { createLogger } from './services/logger';
import { APP_ORIGIN, appSchemePrivileges, registerAppProtocol } from './shell/app-protocol';
import { chooseBackupFolder, chooseKitFile } from './shell/backup-dialogs';
import { chooseImageFile } from './shell/choose-image-file';
import { SafeStorageVault } from './shell/safe-storage-vault';
import { electronEmit, electronRegistrar } from './shell/electron-ipc';
import { isPublishedDeviceLink } from './shell/device-links';
import { claimSingleInstance } from './shell/single-instance';
import { createMainWindow, isAppUrl } from './shell/window';

declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;
declare const MAIN_WINDOW_VITE_NAME: string;

const devServerUrl =
  typeof MAIN_WINDOW_VITE_DEV_SERVER_URL === 'string' ? MAIN_WINDOW_VITE_DEV_SERVER_URL : undefined;
const startUrl = devServerUrl ?? `${APP_ORIGIN}/index.html`;
// Forge defines these; `npm run build` (no Forge) uses Forge's default name.
const rendererName =
  typeof MAIN_WINDOW_VITE_NAME === 'string' ? MAIN_WINDOW_VITE_NAME : 'main_window';

protocol.registerSchemesAsPrivileged([appSchemePrivileges]);

let mainWindow: BrowserWindow | null = null;
const focusWindow = () => {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
};

if (claimSingleInstance(app, focusWindow)) {
  const userDataDir = app.getPath('userData');
  const log = createLogger({ destination: join(userDataDir, 'logs', 'hearth.log') });
  // The vault asks the owner's settings whether a key without a keyring is acceptable;
  // the settings exist once the services do.
  let allowUnprotectedKey = () => Promise.resolve(false);
  const services = createAppServices({
    userDataDir,
    emit: electronEmit(() => BrowserWindow.getAllWindows()),
    log,
    info: {
      name: 'Hearth',
      version: app.getVersion(),
      shell: 'electron',
      platform: process.platform,
    },
    // Packaged: Forge/electron-builder copy resources/catalog next to the app.
    resourcesDir: app.isPackaged ? process.resourcesPath : join(__dirname, '..', '..', 'resources'),
    keyVault: new SafeStorageVault({
      dir: join(userDataDir, 'vault'),
      safeStorage,
      allowPlaintext: () => allowUnprotectedKey(),
    }),
    chooseFile: () => chooseImageFile(dialog, mainWindow),
    documentsDir: app.getPath('documents'),
    chooseBackupFolder: () => chooseBackupFolder(dialog, mainWindow),
    chooseKitFile: (defaultPath) => chooseKitFile(dialog, mainWindow, defaultPath),
    // electron-builder's extraResources puts the bundled restic here (issue 15 fetches it).
    ...(app.isPackaged
      ? {
          resticBinary: join(
            process.resourcesPath,
            'bin',
            process.platform === 'win32' ? 'restic.exe' : 'restic',
          ),
        }
      : {}),
  });
  allowUnprotectedKey = async () => (await services.settings.get()).allowUnprotectedKey;
  const handle = createHandle({
    registrar: electronRegistrar(ipcMain),
    isTrustedSender: (sender) => sender.isMainFrame && isAppUrl(sender.url, startUrl),
    log,
  });
  registerIpc(handle, services);

  app.on('before-quit', () => services.dispose());
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  void app.whenReady().then(() => {
    // HEARTH_DISCOVERY=off keeps the app from looking for devices on the network (tests of the
    // built bundle); the devices it already looks after are still watched.
    if (process.env.HEARTH_DISCOVERY !== 'off') services.start();
    else services.appMonitor.start();
    registerAppProtocol(protocol, join(__dirname, '..', 'renderer', rendererName));
    if (devServerUrl) {
      // The dev server is plain http, so its pages get the CSP through response headers;
      // Vite injects styles inline there for hot reload.
      session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
        callback({
          responseHeaders: {
            ...details.responseHeaders,
            'Content-Security-Policy': [
              contentSecurityPolicy({
                connect: [devServerUrl.replace(/^http/, 'ws')],
                devInlineStyles: true,
              }),
            ],
          },
        });
      });
    }
    const open = () => {
      mainWindow = createMainWindow(
        {
          BrowserWindow,
          shell,
          // An app's http "Open" link leaves the app only if it is one the app publishes now,
          // on its own device.
          isDeviceLink: async (url) =>
            isPublishedDeviceLink(url, services.appMonitor.list(), await services.devices.list()),
        },
        {
          preloadPath: join(__dirname, 'preload.cjs'),
          startUrl,
          devTools: !app.isPackaged,
          onError: (error) => log.error({ err: error }, 'window error'),
        },
      );
      mainWindow.on('closed', () => (mainWindow = null));
    };
    open();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) open();
    });
  });
}
