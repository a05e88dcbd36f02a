// The tray icon: its image says how the household is, its menu what is on it. Linux's
// StatusNotifier menus do not follow changes to a menu already set, so every change builds
// the menu again and sets it again.
import type { Menu, NativeImage, nativeImage, Tray } from 'electron';
import type { TrayActions, TrayState } from './tray-menu';
import { trayIconPath, trayMenuTemplate, trayToolTip } from './tray-menu';

export interface TrayDeps {
  Tray: new (image: NativeImage) => Tray;
  Menu: Pick<typeof Menu, 'buildFromTemplate'>;
  nativeImage: Pick<typeof nativeImage, 'createFromPath'>;
}

export interface TrayOptions {
  platform: NodeJS.Platform;
  /** resources/tray, or where the installer put it. */
  iconDir: string;
  actions: TrayActions;
}

export interface HearthTray {
  update(patch: Partial<TrayState>): void;
  destroy(): void;
}

export function createHearthTray(deps: TrayDeps, options: TrayOptions): HearthTray {
  let state: TrayState = { alerts: null, devices: [], apps: [] };
  let iconPath = '';
  const image = () => {
    iconPath = trayIconPath(state.alerts?.overall ?? 'all-well', options.platform, options.iconDir);
    return deps.nativeImage.createFromPath(iconPath);
  };
  const tray = new deps.Tray(image());
  // On Windows a click on the icon is how people open an app; elsewhere it opens the menu.
  if (options.platform === 'win32') tray.on('click', () => options.actions.open());
  const render = () => {
    const next = trayIconPath(
      state.alerts?.overall ?? 'all-well',
      options.platform,
      options.iconDir,
    );
    if (next !== iconPath) tray.setImage(image());
    tray.setToolTip(trayToolTip(state));
    tray.setContextMenu(deps.Menu.buildFromTemplate(trayMenuTemplate(state, options.actions)));
  };
  render();
  return {
    update(patch) {
      state = { ...state, ...patch };
      render();
    },
    destroy: () => tray.destroy(),
  };
}
