// Whether this Linux desktop will show Hearth's tray icon at all. Electron draws the tray as
// a StatusNotifierItem and gives no way to learn whether anything displays it (electron
// issue 10427): on GNOME without the AppIndicator extension, or a bare Wayland compositor,
// the icon silently goes nowhere. (On X11 Electron falls back to an XEmbed icon, which shows
// only where an old-style tray exists; that cannot be told either.) So we ask D-Bus the one
// question the StatusNotifier spec answers: is a host (a panel that draws items)
// registered with the watcher? No watcher, no gdbus, no answer in time: no tray, and the
// window stays the place where Hearth is seen.
import { execFile } from 'node:child_process';

export type RunCommand = (file: string, args: string[]) => Promise<string>;

const QUESTION = [
  'call',
  '--session',
  '--dest',
  'org.kde.StatusNotifierWatcher',
  '--object-path',
  '/StatusNotifierWatcher',
  '--method',
  'org.freedesktop.DBus.Properties.Get',
  'org.kde.StatusNotifierWatcher',
  'IsStatusNotifierHostRegistered',
];

export const runCommand: RunCommand = (file, args) =>
  new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 3_000 }, (error, stdout) =>
      error ? reject(new Error(error.message, { cause: error })) : resolve(stdout),
    ),
  );

/** macOS and Windows always have one; Linux has one if a StatusNotifier host says so. */
export async function desktopHasTray(
  platform: NodeJS.Platform,
  run: RunCommand = runCommand,
): Promise<boolean> {
  if (platform !== 'linux') return true;
  try {
    // gdbus prints the variant as "(<true>,)".
    return /<true>/.test(await run('gdbus', QUESTION));
  } catch {
    return false;
  }
}
