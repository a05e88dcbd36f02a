// What the tray shows, worked out from Hearth's state alone (no Electron here): the menu's
// template, the icon for the overall state on each platform, and where an alert leads.
import type { MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import { canStart, canStop } from '../../shared/app-controls';
import type {
  Alert,
  AlertsSnapshot,
  AlertTarget,
  DeviceRecord,
  InstalledApp,
  OverallState,
} from '../../shared/model';

export interface TrayState {
  /** Null until the alerts were first read. */
  alerts: AlertsSnapshot | null;
  devices: readonly Pick<DeviceRecord, 'id' | 'name'>[];
  apps: readonly InstalledApp[];
  /** The version of Hearth downloaded and ready to restart into (self-update.ts), if any. */
  readyToUpdate?: string | null;
}

export interface TrayActions {
  /** Shows the window, at the target when there is one. */
  open(target?: AlertTarget): void;
  control(deviceId: string, appId: string, verb: 'start' | 'stop'): void;
  restartToUpdate(): void;
  quit(): void;
}

/**
 * Electron reads a lone "&" in a label as a mnemonic on every platform and drops it ("R&D"
 * shows as "RD"); names and sentences from devices are shown as written.
 */
export const menuText = (text: string): string => text.replaceAll('&', '&&');

/** A menu is no place for a list: past this many alerts, one item leads to Activity. */
export const MAX_MENU_ALERTS = 5;

/** Where an alert leads: its action's target, else the device or app it concerns. */
export function targetOf(alert: Alert): AlertTarget {
  if (alert.action) return alert.action.target;
  if (alert.deviceId && alert.appId)
    return { view: 'apps', deviceId: alert.deviceId, appId: alert.appId };
  if (alert.deviceId) return { view: 'devices', deviceId: alert.deviceId };
  return { view: 'activity' };
}

const ICON_NAMES: Record<OverallState, { template: string; color: string }> = {
  'all-well': { template: 'trayTemplate', color: 'tray-color' },
  'needs-attention': { template: 'trayAttentionTemplate', color: 'tray-attention' },
  problem: { template: 'trayProblemTemplate', color: 'tray-problem' },
};

/**
 * macOS: a black "Template" image the menu bar recolours (its @2x sits beside it);
 * Windows: an .ico holding both sizes; Linux: a coloured png.
 */
export function trayIconPath(overall: OverallState, platform: NodeJS.Platform, dir: string) {
  const names = ICON_NAMES[overall];
  if (platform === 'darwin') return join(dir, `${names.template}.png`);
  if (platform === 'win32') return join(dir, `${names.color}.ico`);
  return join(dir, `${names.color}.png`);
}

export function trayToolTip(state: TrayState): string {
  const alerts = state.alerts;
  if (!alerts) return 'Hearth';
  const worst = alerts.open.find((a) => a.severity !== 'info');
  return worst ? `Hearth: ${worst.message}` : `Hearth: ${alerts.summary}`;
}

function alertItems(alerts: AlertsSnapshot, actions: TrayActions): MenuItemConstructorOptions[] {
  const open = alerts.open;
  if (open.length === 0) return [];
  const items: MenuItemConstructorOptions[] = open.slice(0, MAX_MENU_ALERTS).map((alert) => ({
    label: menuText(alert.message),
    click: () => actions.open(targetOf(alert)),
  }));
  if (open.length > MAX_MENU_ALERTS)
    items.push({
      label: `${open.length - MAX_MENU_ALERTS} more in Activity…`,
      click: () => actions.open({ view: 'activity' }),
    });
  return [...items, { type: 'separator' }];
}

function appItem(app: InstalledApp, actions: TrayActions): MenuItemConstructorOptions {
  const { deviceId, appId } = app;
  return {
    label: menuText(app.name),
    submenu: [
      {
        label: 'Start',
        enabled: canStart(app.state),
        click: () => actions.control(deviceId, appId, 'start'),
      },
      {
        label: 'Stop',
        enabled: canStop(app.state),
        click: () => actions.control(deviceId, appId, 'stop'),
      },
      { type: 'separator' },
      {
        label: `Open ${menuText(app.name)} in Hearth`,
        click: () => actions.open({ view: 'apps', deviceId, appId }),
      },
    ],
  };
}

function deviceItems(state: TrayState, actions: TrayActions): MenuItemConstructorOptions[] {
  // Devices Hearth looks after, in their order, then any the apps name that the list lacks.
  const names = new Map(state.devices.map((d) => [d.id, d.name]));
  for (const app of state.apps)
    if (!names.has(app.deviceId)) names.set(app.deviceId, app.deviceName);
  const items: MenuItemConstructorOptions[] = [];
  for (const [deviceId, name] of names) {
    const apps = state.apps.filter((a) => a.deviceId === deviceId);
    items.push({ label: menuText(name), enabled: false });
    if (apps.length === 0) items.push({ label: 'No apps yet', enabled: false });
    for (const app of apps) items.push(appItem(app, actions));
  }
  return items.length ? [...items, { type: 'separator' }] : [];
}

export function trayMenuTemplate(
  state: TrayState,
  actions: TrayActions,
): MenuItemConstructorOptions[] {
  return [
    { label: state.alerts?.summary ?? 'Looking at your devices…', enabled: false },
    { type: 'separator' },
    ...(state.readyToUpdate
      ? ([
          {
            label: `Hearth ${menuText(state.readyToUpdate)} is ready — restart to update`,
            click: () => actions.restartToUpdate(),
          },
          { type: 'separator' },
        ] satisfies MenuItemConstructorOptions[])
      : []),
    ...(state.alerts ? alertItems(state.alerts, actions) : []),
    ...deviceItems(state, actions),
    { label: 'Open Hearth', click: () => actions.open() },
    { type: 'separator' },
    { label: 'Quit Hearth', click: () => actions.quit() },
  ];
}
