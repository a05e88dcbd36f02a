// Hearth in the background: the tray, notifications, close-to-tray and start-at-login,
// fed by the same events the window gets. main.ts builds it once and hands it every event
// and every window.
import type { App, BrowserWindow, Dialog } from 'electron';
import type { EventChannel, EventMap } from '../../shared/ipc';
import type { AlertTarget } from '../../shared/model';
import { serializeError } from '../../shared/errors';
import type { AppServices } from '../app-services';
import type { Logger } from '../services/logger';
import { keepRunningOnClose } from './close-to-tray';
import type { LoginItem } from './login-item';
import { createNotifier } from './notifier';
import type { Notifier, NotifierDeps } from './notifier';
import { createHearthTray } from './tray';
import type { HearthTray, TrayDeps } from './tray';
import type { TrayState } from './tray-menu';

export interface BackgroundDeps extends TrayDeps, NotifierDeps {
  app: Pick<App, 'on' | 'quit' | 'setAppUserModelId'>;
  dialog: Pick<Dialog, 'showMessageBox'>;
}

export type BackgroundServices = Pick<
  AppServices,
  'alerts' | 'appMonitor' | 'devices' | 'appControl' | 'settings'
>;

export interface BackgroundOptions {
  platform: NodeJS.Platform;
  iconDir: string;
  /** Windows shows a program's notifications only under its app user model id (the appId). */
  appUserModelId: string;
  services: BackgroundServices;
  /** The window, if one is open (shown or hidden). */
  window(): BrowserWindow | null;
  /** Whether the desktop shows a tray icon (tray-host.ts). */
  hasTray(): Promise<boolean>;
  loginItem: LoginItem;
  /**
   * Restarts into Hearth's downloaded update (self-update.ts): true when it does now, false
   * when it waits for app work to finish first.
   */
  restartToUpdate?: () => boolean;
  log: Pick<Logger, 'warn'>;
}

export interface BackgroundCare {
  /** Every event the services publish, as the windows get it. */
  observe<E extends EventChannel>(channel: E, payload: EventMap[E]): void;
  /** Each window that opens: closing it keeps Hearth running (once start() knows how). */
  manage(window: BrowserWindow): void;
  /**
   * Once the app is ready: the tray, the notifier and the login item. `openWindow` opens a
   * new window (it shows itself once ready) when one is wanted and none is open.
   */
  start(openWindow: () => BrowserWindow): Promise<void>;
  /** Shows and focuses the window, at the target when one is given. */
  openAt(target?: AlertTarget): void;
  /** Whether Hearth stays running with no window: there is a tray to come back from. */
  keepsRunning(): boolean;
}

export function createBackgroundCare(
  deps: BackgroundDeps,
  options: BackgroundOptions,
): BackgroundCare {
  const { services, log } = options;
  if (options.platform === 'win32') deps.app.setAppUserModelId(options.appUserModelId);
  let quitting = false;
  deps.app.on('before-quit', () => (quitting = true));
  let hasTray: boolean | null = null;
  let tray: HearthTray | null = null;
  let notifier: Notifier | null = null;
  const state: TrayState = { alerts: null, devices: [], apps: [] };
  const heard = new Set<keyof TrayState>();
  let startAtLogin: boolean | null = null;
  const waiting: BrowserWindow[] = [];
  let openWindow: (() => BrowserWindow) | null = null;

  const tellOwner = (message: string) =>
    void deps.dialog.showMessageBox({ type: 'warning', message, buttons: ['OK'] });

  const openAt = (target?: AlertTarget) => {
    const existing = options.window();
    const window = existing ?? openWindow?.();
    if (!window) return;
    if (existing) {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    }
    if (!target) return;
    const send = () => window.webContents.send('app:openAt', target);
    if (window.webContents.isLoading()) window.webContents.once('did-finish-load', send);
    else send();
  };

  const restartToUpdate = () => {
    try {
      if (options.restartToUpdate?.() === false)
        tellOwner('Hearth will restart to update as soon as the work on your apps has finished.');
    } catch (error) {
      tellOwner(serializeError(error).message);
    }
  };

  const quit = () => {
    quitting = true;
    deps.app.quit();
  };

  const control = (deviceId: string, appId: string, verb: 'start' | 'stop') =>
    void services.appControl
      .control(deviceId, appId, verb)
      .catch((error: unknown) => tellOwner(serializeError(error).message));

  const manageNow = (window: BrowserWindow) =>
    keepRunningOnClose(window, {
      dialog: deps.dialog,
      platform: options.platform,
      hasTray: hasTray === true,
      isQuitting: () => quitting,
      quit,
      settings: services.settings,
      onError: (err) => log.warn({ err }, 'closing the window to the tray went wrong'),
    });

  const applyStartAtLogin = async (wanted: boolean) => {
    if (wanted === startAtLogin) return;
    startAtLogin = wanted;
    try {
      await options.loginItem.set(wanted);
    } catch (err) {
      log.warn({ err }, 'the login item could not be changed');
      startAtLogin = !wanted;
      await services.settings.update({ startAtLogin: !wanted });
      tellOwner(
        wanted
          ? 'Hearth could not set itself to start when you log in.'
          : 'Hearth could not stop itself starting when you log in.',
      );
    }
  };

  return {
    observe(channel, payload) {
      const event = { channel, payload } as {
        [E in EventChannel]: { channel: E; payload: EventMap[E] };
      }[EventChannel];
      if (event.channel === 'alerts:changed') {
        state.alerts = event.payload;
        heard.add('alerts');
        notifier?.observe(event.payload);
      } else if (event.channel === 'apps:changed') {
        state.apps = event.payload;
        heard.add('apps');
      } else if (event.channel === 'devices:changed') {
        state.devices = event.payload;
        heard.add('devices');
      } else if (event.channel === 'app:selfUpdate') {
        state.readyToUpdate = event.payload.state === 'ready' ? event.payload.version : null;
      } else if (event.channel === 'settings:changed') {
        if (startAtLogin !== null) void applyStartAtLogin(event.payload.startAtLogin);
        return;
      } else return;
      tray?.update(state);
    },

    manage(window) {
      if (hasTray === null) waiting.push(window);
      else manageNow(window);
    },

    async start(open) {
      openWindow = open;
      hasTray = await options.hasTray();
      for (const window of waiting.splice(0)) manageNow(window);
      const [alerts, devices, apps] = await Promise.all([
        services.alerts.list(),
        services.devices.list(),
        Promise.resolve(services.appMonitor.list()),
      ]);
      // What arrived as events meanwhile is at least as fresh as these answers.
      if (!heard.has('alerts')) state.alerts = alerts;
      if (!heard.has('devices')) state.devices = devices;
      if (!heard.has('apps')) state.apps = apps;
      notifier = createNotifier(deps, { open: openAt });
      notifier.seed(alerts);
      if (state.alerts && state.alerts !== alerts) notifier.observe(state.alerts);
      if (hasTray)
        tray = createHearthTray(deps, {
          platform: options.platform,
          iconDir: options.iconDir,
          actions: { open: openAt, control, restartToUpdate, quit },
        });
      tray?.update(state);
      // The system's list is the truth: the owner may have changed it in its settings.
      const enabled = await options.loginItem.isEnabled();
      startAtLogin = enabled;
      if ((await services.settings.get()).startAtLogin !== enabled)
        await services.settings.update({ startAtLogin: enabled });
    },

    openAt,
    keepsRunning: () => hasTray === true && !quitting,
  };
}
