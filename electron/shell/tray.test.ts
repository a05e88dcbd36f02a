import type { MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertTarget, OverallState } from '../../shared/model';
import { app, device, PI_ID } from '../services/alerts/alerts-test-kit';
import { FakeMenu, fakeNativeImage, FakeTray } from './fake-electron';
import { createHearthTray } from './tray';
import type { TrayDeps } from './tray';
import { MAX_MENU_ALERTS, trayIconPath } from './tray-menu';
import { alert, snapshot } from './tray-test-kit';

const iconDir = join(import.meta.dirname, '..', '..', 'resources', 'tray');
const STUDY_ID = '3b241101-e2bb-4255-8caf-4136c566a962';

function setup(platform: NodeJS.Platform = 'linux') {
  const opened: (AlertTarget | undefined)[] = [];
  const controlled: string[] = [];
  let quit = 0;
  let restarts = 0;
  const deps: TrayDeps = {
    Tray: FakeTray as unknown as new (image: NativeImage) => Tray,
    Menu: FakeMenu as unknown as TrayDeps['Menu'],
    nativeImage: fakeNativeImage as unknown as TrayDeps['nativeImage'],
  };
  const tray = createHearthTray(deps, {
    platform,
    iconDir,
    actions: {
      open: (target) => opened.push(target),
      control: (deviceId, appId, verb) => controlled.push(`${verb} ${deviceId}/${appId}`),
      restartToUpdate: () => restarts++,
      quit: () => quit++,
    },
  });
  return {
    tray,
    fake: FakeTray.created.at(-1)!,
    opened,
    controlled,
    quits: () => quit,
    restarts: () => restarts,
  };
}

/** The item with this label, anywhere in the menu. */
function item(menu: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions {
  for (const entry of menu) {
    if (entry.label === label) return entry;
    const inner = Array.isArray(entry.submenu) ? entry.submenu : [];
    const found = inner.length ? itemOrNull(inner, label) : null;
    if (found) return found;
  }
  throw new Error(`no menu item "${label}"`);
}
function itemOrNull(menu: MenuItemConstructorOptions[], label: string) {
  try {
    return item(menu, label);
  } catch {
    return null;
  }
}
const labels = (menu: MenuItemConstructorOptions[]) =>
  menu.map((m) => (m.type === 'separator' ? '—' : m.label));
const click = (entry: MenuItemConstructorOptions) => (entry.click as unknown as () => void)();

beforeEach(() => {
  FakeTray.created.length = 0;
});

describe('the tray menu', () => {
  it('shows the summary, the open alerts, each device’s apps, Open Hearth and Quit', () => {
    const { tray, fake } = setup();
    tray.update({
      alerts: snapshot([alert()], '2 devices, 1 app running'),
      devices: [device(), device({ id: STUDY_ID, name: 'Study PC' })],
      apps: [app(), app({ appId: 'notes', name: 'Notes', state: 'stopped' })],
    });
    expect(labels(fake.menu)).toEqual([
      '2 devices, 1 app running',
      '—',
      'Calendar kept stopping, so Hearth stopped restarting it.',
      '—',
      'Living room Pi',
      'Calendar',
      'Notes',
      'Study PC',
      'No apps yet',
      '—',
      'Open Hearth',
      '—',
      'Quit Hearth',
    ]);
    expect(item(fake.menu, '2 devices, 1 app running').enabled).toBe(false);
    expect(fake.toolTip).toBe('Hearth: Calendar kept stopping, so Hearth stopped restarting it.');
  });

  it('greys Start or Stop as each app’s state says, and sends the one clicked', () => {
    const { tray, fake, controlled } = setup();
    tray.update({
      devices: [device()],
      apps: [app(), app({ appId: 'notes', name: 'Notes', state: 'gave-up' })],
    });
    const [calendar, notes] = ['Calendar', 'Notes'].map(
      (name) => item(fake.menu, name).submenu as MenuItemConstructorOptions[],
    );
    expect([item(calendar!, 'Start').enabled, item(calendar!, 'Stop').enabled]).toEqual([
      false,
      true,
    ]);
    expect([item(notes!, 'Start').enabled, item(notes!, 'Stop').enabled]).toEqual([true, false]);
    click(item(calendar!, 'Stop'));
    click(item(notes!, 'Start'));
    expect(controlled).toEqual([`stop ${PI_ID}/calendar`, `start ${PI_ID}/notes`]);
  });

  it('opens Hearth at an alert’s target, at an app, or as it is; Quit quits', () => {
    const { tray, fake, opened, quits } = setup();
    tray.update({ alerts: snapshot([alert()]), devices: [device()], apps: [app()] });
    click(item(fake.menu, 'Calendar kept stopping, so Hearth stopped restarting it.'));
    click(item(fake.menu, 'Open Calendar in Hearth'));
    click(item(fake.menu, 'Open Hearth'));
    click(item(fake.menu, 'Quit Hearth'));
    expect(opened).toEqual([
      { view: 'apps', deviceId: PI_ID, appId: 'calendar' },
      { view: 'apps', deviceId: PI_ID, appId: 'calendar' },
      undefined,
    ]);
    expect(quits()).toBe(1);
  });

  it('offers the restart into a downloaded Hearth once one is ready, and not before', () => {
    const { tray, fake, restarts } = setup();
    tray.update({ alerts: snapshot([]), devices: [device()], apps: [] });
    expect(labels(fake.menu).some((l) => l?.includes('restart to update'))).toBe(false);
    tray.update({ alerts: snapshot([]), devices: [device()], apps: [], readyToUpdate: '0.3.0' });
    expect(labels(fake.menu)[2]).toBe('Hearth 0.3.0 is ready — restart to update');
    click(item(fake.menu, 'Hearth 0.3.0 is ready — restart to update'));
    expect(restarts()).toBe(1);
  });

  it('leads to Activity past a handful of alerts, rather than growing a long list', () => {
    const { tray, fake, opened } = setup();
    const many = Array.from({ length: MAX_MENU_ALERTS + 2 }, (_, i) =>
      alert({ key: `device-offline:${i}`, message: `Device ${i} is offline.` }),
    );
    tray.update({ alerts: snapshot(many) });
    expect(labels(fake.menu)).toContain(`Device ${MAX_MENU_ALERTS - 1} is offline.`);
    expect(labels(fake.menu)).not.toContain(`Device ${MAX_MENU_ALERTS} is offline.`);
    click(item(fake.menu, '2 more in Activity…'));
    expect(opened).toEqual([{ view: 'activity' }]);
  });

  it('is built and set again on every change (Linux shows only a menu set anew)', () => {
    const { tray, fake } = setup();
    expect(fake.menus).toHaveLength(1);
    tray.update({ apps: [app()], devices: [device()] });
    tray.update({ apps: [app({ state: 'stopped' })] });
    expect(fake.menus).toHaveLength(3);
    const calendar = item(fake.menu, 'Calendar').submenu as MenuItemConstructorOptions[];
    expect(item(calendar, 'Start').enabled).toBe(true);
  });
});

it('shows an "&" in a name as written, not as a keyboard mnemonic', () => {
  const { tray, fake } = setup();
  tray.update({ devices: [device({ name: 'R&D lab' })], apps: [app({ name: 'Notes & lists' })] });
  expect(labels(fake.menu)).toEqual(expect.arrayContaining(['R&&D lab', 'Notes && lists']));
});

describe('the tray icon', () => {
  const cases: [NodeJS.Platform, OverallState, string][] = [
    ['darwin', 'all-well', 'trayTemplate.png'],
    ['darwin', 'needs-attention', 'trayAttentionTemplate.png'],
    ['darwin', 'problem', 'trayProblemTemplate.png'],
    ['win32', 'all-well', 'tray-color.ico'],
    ['win32', 'needs-attention', 'tray-attention.ico'],
    ['win32', 'problem', 'tray-problem.ico'],
    ['linux', 'all-well', 'tray-color.png'],
    ['linux', 'needs-attention', 'tray-attention.png'],
    ['linux', 'problem', 'tray-problem.png'],
  ];

  it.each(cases)('on %s, %s shows %s, an image that ships', (platform, overall, file) => {
    expect(trayIconPath(overall, platform, iconDir)).toBe(join(iconDir, file));
    expect(existsSync(join(iconDir, file))).toBe(true);
    // macOS picks the Retina image from beside the 1x one by its name.
    if (platform === 'darwin')
      expect(existsSync(join(iconDir, file.replace('.png', '@2x.png')))).toBe(true);
  });

  it('changes with the overall state, and only then', () => {
    const { tray, fake } = setup('win32');
    expect(fake.image.path).toBe(join(iconDir, 'tray-color.ico'));
    tray.update({ alerts: snapshot([alert({ severity: 'warning' })]) });
    tray.update({ alerts: snapshot([alert({ severity: 'warning', message: 'Still.' })]) });
    tray.update({ alerts: snapshot([alert()]) });
    tray.update({ alerts: snapshot([]) });
    expect(fake.images.map((i) => i.path.slice(iconDir.length + 1))).toEqual([
      'tray-color.ico',
      'tray-attention.ico',
      'tray-problem.ico',
      'tray-color.ico',
    ]);
  });

  it('opens Hearth on a click on Windows, where that is what people expect', () => {
    const win = setup('win32');
    win.fake.emit('click');
    expect(win.opened).toEqual([undefined]);
    const linux = setup('linux');
    expect(linux.fake.listeners.has('click')).toBe(false);
  });
});
