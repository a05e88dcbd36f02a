// Composition root: builds the services, wires IPC, the protocol and the window.
// Bundled to CommonJS (.vite/build/main.cjs), hence __dirname.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  protocol,
  safeStorage,
  session,
  shell,
  Tray,
} from 'electron';
import { autoUpdater } from 'electron-updater';
import { join } from 'node:path';
import { createAppServices } from './app-services';
import { contentSecurityPolicy } from './csp';
import { createHandle } from './ipc/handle';
import { registerIpc } from './ipc/register-ipc';
import { systemClock, systemSleep } from './services/clock';
import { createLogger } from './services/logger';
import { bundledToolPath } from './services/tools/bundled-tool';
import { APP_ID } from './shell/app-id';
import { APP_ORIGIN, appSchemePrivileges, registerAppProtocol } from './shell/app-protocol';
import { chooseBackupFolder, chooseKitFile } from './shell/backup-dialogs';
import { chooseImageFile } from './shell/choose-image-file';
import { SafeStorageVault } from './shell/safe-storage-vault';
import { electronEmit, electronRegistrar } from './shell/electron-ipc';
import { isPublishedDeviceLink } from './shell/device-links';
import type { BackgroundCare } from './shell/background-care';
import { createBackgroundCare } from './shell/background-care';
import { loginItem, startedAtLogin } from './shell/login-item';
import { desktopHasTray } from './shell/tray-host';
import { SelfUpdate } from './shell/self-update';
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
let care: BackgroundCare | null = null;
// Restored, shown (closed to the tray, it is hidden, not gone) and focused; opened when Hearth
// started at login with none.
const focusWindow = () => care?.openAt();

if (claimSingleInstance(app, focusWindow)) {
  const userDataDir = app.getPath('userData');
  const log = createLogger({ destination: join(userDataDir, 'logs', 'hearth.log') });
  // The vault asks the owner's settings whether a key without a keyring is acceptable;
  // the settings exist once the services do.
  let allowUnprotectedKey = () => Promise.resolve(false);
  // Made once the services exist (it asks them whether app work is running).
  let selfUpdate: SelfUpdate | null = null;
  // Packaged: Forge/electron-builder copy resources/catalog and resources/tray next to the app.
  const resourcesDir = app.isPackaged
    ? process.resourcesPath
    : join(__dirname, '..', '..', 'resources');
  // The tray and notifications hear every event the window does.
  const toWindows = electronEmit(() => BrowserWindow.getAllWindows());
  const emit: typeof toWindows = (channel, payload) => {
    toWindows(channel, payload);
    care?.observe(channel, payload);
  };
  const services = createAppServices({
    userDataDir,
    emit,
    log,
    info: {
      name: 'Hearth',
      version: app.getVersion(),
      shell: 'electron',
      platform: process.platform,
    },
    resourcesDir,
    keyVault: new SafeStorageVault({
      dir: join(userDataDir, 'vault'),
      safeStorage,
      allowPlaintext: () => allowUnprotectedKey(),
    }),
    chooseFile: () => chooseImageFile(dialog, mainWindow),
    documentsDir: app.getPath('documents'),
    chooseBackupFolder: () => chooseBackupFolder(dialog, mainWindow),
    chooseKitFile: (defaultPath) => chooseKitFile(dialog, mainWindow, defaultPath),
    // Packaged: the installers carry restic in resources/bin (scripts/fetch-restic.ts,
    // extraResources), and Hearth can restart into its own downloaded update.
    ...(app.isPackaged
      ? {
          resticBinary: bundledToolPath(process.resourcesPath, 'restic'),
          restartToUpdate: () => selfUpdate?.restart() ?? false,
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

  // Hearth's own updates, from the feed scripts/update-feed.ts gives electron-builder
  // (electron-updater reads it from the app-update.yml written into the app): packaged only.
  selfUpdate = app.isPackaged
    ? new SelfUpdate({
        updater: autoUpdater,
        clock: systemClock,
        sleep: systemSleep,
        log,
        appWorkRunning: () => services.appWorkRunning(),
        notify: (notice) => emit('app:selfUpdate', notice),
        // Tests of the built bundle check at once rather than half a minute after start.
        ...(process.env.HEARTH_SELF_UPDATE_FIRST_CHECK_MS
          ? { firstCheckMs: Number(process.env.HEARTH_SELF_UPDATE_FIRST_CHECK_MS) }
          : {}),
      })
    : null;

  // Background care: tray, notifications, close-to-tray, start at login (electron/shell/).
  const background = createBackgroundCare(
    { app, dialog, Tray, Menu, nativeImage, Notification },
    {
      platform: process.platform,
      iconDir: join(resourcesDir, 'tray'),
      appUserModelId: APP_ID,
      services,
      window: () => mainWindow,
      hasTray: () => desktopHasTray(process.platform),
      loginItem: loginItem({
        app,
        platform: process.platform,
        command: process.env.APPIMAGE ?? process.execPath,
        configHome: app.getPath('appData'),
      }),
      restartToUpdate: () => selfUpdate?.restart() ?? false,
      log,
    },
  );
  care = background;

  app.on('before-quit', () => {
    selfUpdate?.stop();
    services.dispose();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin' && !background.keepsRunning()) app.quit();
  });

  void app.whenReady().then(() => {
    // HEARTH_DISCOVERY=off keeps the app from looking for devices on the network (tests of the
    // built bundle); the devices it already looks after are still watched.
    if (process.env.HEARTH_DISCOVERY !== 'off') services.start();
    else services.appMonitor.start();
    selfUpdate?.start();
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
      background.manage(mainWindow);
      return mainWindow;
    };
    // Started by the login, Hearth goes straight to the tray, unless there is no tray to see.
    if (!startedAtLogin(process.argv, app, process.platform)) open();
    void background.start(open).then(
      () => {
        if (!mainWindow && !background.keepsRunning()) open();
      },
      (err: unknown) => log.warn({ err }, 'the tray and notifications could not start'),
    );
    app.on('activate', () => background.openAt());
  });
}
