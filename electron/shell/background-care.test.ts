import type { BrowserWindow } from 'electron';
import type { MenuItemConstructorOptions } from 'electron';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError } from '../../shared/errors';
import { app, device, PI_ID } from '../services/alerts/alerts-test-kit';
import { SettingsService } from '../services/settings/settings-service';
import { AtomicJsonStore } from '../services/store/atomic-json-store';
import { createBackgroundCare } from './background-care';
import type { BackgroundDeps, BackgroundServices } from './background-care';
import {
  FakeBrowserWindow,
  FakeMenu,
  fakeNativeImage,
  FakeNotification,
  FakeTray,
  navigationEvent,
} from './fake-electron';
import type { LoginItem } from './login-item';
import { alert, snapshot } from './tray-test-kit';

/** Typed so a test can pass another platform. */
const LINUX: NodeJS.Platform = 'linux';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-background-'));
  FakeTray.created.length = 0;
  FakeNotification.created.length = 0;
  FakeBrowserWindow.created.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const offline = alert({
  key: `device-offline:${PI_ID}`,
  kind: 'device-offline',
  message: 'Living room Pi has not answered for 2 minutes.',
  action: { label: 'See the device', target: { view: 'devices', deviceId: PI_ID } },
  appId: undefined,
});

function setup({
  platform = LINUX,
  hasTray = true,
  alerts = snapshot([]),
  loginEnabled = false,
  loginFails = false,
  restartNow = true,
} = {}) {
  const appEvents = new Map<string, () => void>();
  const calls = {
    quit: 0,
    aumid: [] as string[],
    login: [] as boolean[],
    opened: 0,
    restarts: 0,
  };
  const boxes: string[] = [];
  const control = vi.fn((_d: string, _a: string, _v: string) => Promise.resolve(null));
  const settings = new SettingsService(new AtomicJsonStore(dir), () => undefined);
  const services = {
    alerts: { list: () => Promise.resolve(alerts) },
    devices: { list: () => Promise.resolve([device()]) },
    appMonitor: { list: () => [app()] },
    appControl: { control },
    settings,
  } as unknown as BackgroundServices;
  let enabled = loginEnabled;
  const loginItem: LoginItem = {
    isEnabled: () => Promise.resolve(enabled),
    set: (on) => {
      calls.login.push(on);
      if (loginFails) return Promise.reject(new Error('EACCES'));
      enabled = on;
      return Promise.resolve();
    },
  };
  let window: FakeBrowserWindow | null = null;
  const openWindow = () => {
    calls.opened++;
    window = new FakeBrowserWindow({});
    return window as unknown as BrowserWindow;
  };
  const deps = {
    app: {
      on: (event: string, fn: () => void) => appEvents.set(event, fn),
      quit: () => calls.quit++,
      setAppUserModelId: (id: string) => calls.aumid.push(id),
    },
    dialog: {
      showMessageBox: (...args: unknown[]) => {
        boxes.push((args.at(-1) as { message: string }).message);
        return Promise.resolve({ response: 0, checkboxChecked: false });
      },
    },
    Tray: FakeTray,
    Menu: FakeMenu,
    nativeImage: fakeNativeImage,
    Notification: FakeNotification,
  } as unknown as BackgroundDeps;
  const care = createBackgroundCare(deps, {
    platform,
    iconDir: '/res/tray',
    appUserModelId: 'org.hearth.desktop',
    services,
    restartToUpdate: () => {
      calls.restarts++;
      return restartNow;
    },
    window: () => window as unknown as BrowserWindow | null,
    hasTray: () => Promise.resolve(hasTray),
    loginItem,
    log: { warn: () => undefined },
  });
  return {
    // Started as main starts it, with the window opener main passes.
    care: { ...care, start: () => care.start(openWindow) },
    calls,
    boxes,
    control,
    settings,
    appEvents,
    openWindow,
    window: () => window,
    tray: () => FakeTray.created.at(-1),
  };
}

function item(menu: MenuItemConstructorOptions[], ...path: string[]): MenuItemConstructorOptions {
  let entries = menu;
  let found: MenuItemConstructorOptions | undefined;
  for (const label of path) {
    found = entries.find((e) => e.label === label);
    if (!found) throw new Error(`no menu item "${label}"`);
    entries = (found.submenu as MenuItemConstructorOptions[] | undefined) ?? [];
  }
  return found!;
}
const click = (entry: MenuItemConstructorOptions) => (entry.click as unknown as () => void)();

describe('the tray in the running app', () => {
  it('starts from the services’ lists and follows their events', async () => {
    const { care, tray } = setup({ alerts: snapshot([offline], '1 device, 1 app running') });
    await care.start();
    expect(tray()!.menu[0]!.label).toBe('1 device, 1 app running');
    expect(tray()!.image.path).toBe('/res/tray/tray-problem.png');
    care.observe('alerts:changed', snapshot([], '1 device, 0 apps running'));
    care.observe('apps:changed', [app({ state: 'stopped' })]);
    expect(tray()!.menu[0]!.label).toBe('1 device, 0 apps running');
    expect(tray()!.image.path).toBe('/res/tray/tray-color.png');
    expect(item(tray()!.menu, 'Calendar', 'Start').enabled).toBe(true);
  });

  it('sends Start and Stop to the apps service, and a failure to the owner as a sentence', async () => {
    const { care, tray, control, boxes } = setup();
    await care.start();
    click(item(tray()!.menu, 'Calendar', 'Stop'));
    expect(control).toHaveBeenCalledWith(PI_ID, 'calendar', 'stop');
    control.mockRejectedValueOnce(new HearthError('DEVICE_UNREACHABLE'));
    care.observe('apps:changed', [app({ state: 'stopped' })]);
    click(item(tray()!.menu, 'Calendar', 'Start'));
    expect(control).toHaveBeenLastCalledWith(PI_ID, 'calendar', 'start');
    await vi.waitFor(() => expect(boxes).toHaveLength(1));
    expect(boxes[0]).toBe(new HearthError('DEVICE_UNREACHABLE').message);
  });

  it('offers the downloaded Hearth from the tray, and says when the restart waits for app work', async () => {
    const { care, tray, calls, boxes } = setup({ restartNow: false });
    await care.start();
    const ready = 'Hearth 0.3.0 is ready — restart to update';
    care.observe('app:selfUpdate', { state: 'failed', version: '0.3.0', message: 'no' });
    expect(tray()!.menu.map((i) => i.label)).not.toContain(ready);
    care.observe('app:selfUpdate', { state: 'ready', version: '0.3.0', notes: null });
    click(item(tray()!.menu, ready));
    expect(calls.restarts).toBe(1);
    await vi.waitFor(() => expect(boxes).toHaveLength(1));
    expect(boxes[0]).toBe(
      'Hearth will restart to update as soon as the work on your apps has finished.',
    );
  });

  it('Quit really quits: the window then closes instead of hiding', async () => {
    const { care, tray, calls, openWindow } = setup();
    care.manage(openWindow());
    await care.start();
    expect(care.keepsRunning()).toBe(true);
    click(item(tray()!.menu, 'Quit Hearth'));
    expect(calls.quit).toBe(1);
    expect(care.keepsRunning()).toBe(false);
    const close = navigationEvent();
    FakeBrowserWindow.created[0]!.emit('close', close);
    expect(close.prevented).toBe(false);
  });

  it('has no tray where the desktop shows none, and then does not keep running unseen', async () => {
    const { care, openWindow, boxes } = setup({ hasTray: false });
    care.manage(openWindow());
    await care.start();
    expect(FakeTray.created).toEqual([]);
    expect(care.keepsRunning()).toBe(false);
    FakeBrowserWindow.created[0]!.emit('close', navigationEvent());
    await vi.waitFor(() => expect(boxes).toEqual(['Keep Hearth running?']));
  });
});

describe('a notification, clicked', () => {
  it('shows and focuses the hidden window and opens Hearth at the alert’s target', async () => {
    const { care, openWindow, window } = setup();
    openWindow();
    await care.start();
    window()!.minimized = true;
    window()!.hide();
    care.observe('alerts:changed', snapshot([offline]));
    FakeNotification.created[0]!.emit('click');
    expect(window()!).toMatchObject({ shown: true, minimized: false, focused: 1 });
    expect(window()!.webContents.sent).toEqual([
      ['app:openAt', { view: 'devices', deviceId: PI_ID }],
    ]);
  });

  it('opens a window when there is none, and says where once its page is there', async () => {
    const { care, calls, window } = setup();
    await care.start();
    care.observe('alerts:changed', snapshot([alert()]));
    FakeNotification.created[0]!.emit('click');
    expect(calls.opened).toBe(1);
    // A new window shows itself once ready (window.ts); this one's page has loaded.
    const contents = window()!.webContents;
    expect(contents.sent).toEqual([
      ['app:openAt', { view: 'apps', deviceId: PI_ID, appId: 'calendar' }],
    ]);
  });

  it('waits for a window still loading before saying where', async () => {
    const { care, openWindow, window } = setup();
    openWindow();
    window()!.webContents.loading = true;
    await care.start();
    care.observe('alerts:changed', snapshot([offline]));
    FakeNotification.created[0]!.emit('click');
    expect(window()!.webContents.sent).toEqual([]);
    window()!.webContents.emit('did-finish-load');
    expect(window()!.webContents.sent).toEqual([
      ['app:openAt', { view: 'devices', deviceId: PI_ID }],
    ]);
  });

  it('are not repeated at start for alerts that were open before', async () => {
    const { care } = setup({ alerts: snapshot([offline]) });
    await care.start();
    care.observe('alerts:changed', snapshot([offline]));
    expect(FakeNotification.created).toEqual([]);
  });
});

describe('Windows', () => {
  it('sets the app user model id, the installer’s appId, so notifications show at all', () => {
    expect(setup({ platform: 'win32' }).calls.aumid).toEqual(['org.hearth.desktop']);
    expect(setup({ platform: 'linux' }).calls.aumid).toEqual([]);
  });
});

describe('start at login', () => {
  it('follows the setting, and takes the system’s word at start', async () => {
    const { care, settings, calls } = setup({ loginEnabled: true });
    await care.start();
    // The owner had turned it on in the system's settings: the toggle says so.
    expect((await settings.get()).startAtLogin).toBe(true);
    expect(calls.login).toEqual([]);
    const off = { ...(await settings.get()), startAtLogin: false };
    care.observe('settings:changed', off);
    care.observe('settings:changed', { ...off, theme: 'dark' });
    await vi.waitFor(() => expect(calls.login).toEqual([false]));
  });

  it('puts the toggle back and tells the owner when the system refuses', async () => {
    const { care, settings, boxes } = setup({ loginFails: true });
    await care.start();
    const on = await settings.update({ startAtLogin: true });
    care.observe('settings:changed', on);
    await vi.waitFor(() => expect(boxes).toHaveLength(1));
    expect(boxes[0]).toBe('Hearth could not set itself to start when you log in.');
    expect((await settings.get()).startAtLogin).toBe(false);
  });
});
