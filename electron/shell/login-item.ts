// "Start Hearth when I log in". macOS and Windows keep the list themselves
// (app.setLoginItemSettings); Electron does not support it on Linux, where desktops follow
// the XDG autostart spec instead: a .desktop file in ~/.config/autostart. Writing that one
// file is all it takes, and every desktop that has a session manager honours it, so Linux
// owners get the same option rather than being told it is missing.
import type { App } from 'electron';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Hearth started by the login, not by the owner: it goes to the tray without a window. */
export const HIDDEN_FLAG = '--hidden';

export interface LoginItemOptions {
  app: Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings'>;
  platform: NodeJS.Platform;
  /** What starts Hearth: the AppImage itself when it runs from one, else the executable. */
  command: string;
  /** $XDG_CONFIG_HOME, else ~/.config. */
  configHome: string;
}

export interface LoginItem {
  /** What the system has now (the owner may have changed it in the system's settings). */
  isEnabled(): Promise<boolean>;
  set(enabled: boolean): Promise<void>;
}

/** A desktop entry's Exec argument, quoted as the spec asks. */
function execArgument(value: string): string {
  return `"${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

export function autostartEntry(command: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Hearth',
    'Comment=Keeps watching your home devices',
    `Exec=${execArgument(command)} ${HIDDEN_FLAG}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function loginItem(options: LoginItemOptions): LoginItem {
  if (options.platform === 'linux') {
    const file = join(options.configHome, 'autostart', 'hearth.desktop');
    return {
      isEnabled: () =>
        stat(file).then(
          () => true,
          () => false,
        ),
      async set(enabled) {
        if (!enabled) return rm(file, { force: true });
        await mkdir(join(options.configHome, 'autostart'), { recursive: true });
        await writeFile(file, autostartEntry(options.command));
      },
    };
  }
  const args = [HIDDEN_FLAG];
  return {
    isEnabled: async () => options.app.getLoginItemSettings({ args }).openAtLogin,
    set: async (enabled) => options.app.setLoginItemSettings({ openAtLogin: enabled, args }),
  };
}

/** Whether this run was started by the login item rather than by the owner. */
export function startedAtLogin(
  argv: readonly string[],
  app: Pick<App, 'getLoginItemSettings'>,
  platform: NodeJS.Platform,
): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  // macOS starts login items without arguments, but says so.
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}
