import { expect, it } from 'vitest';
import { desktopHasTray } from './tray-host';

it('macOS and Windows always have a tray; Linux only where a StatusNotifier host says so', async () => {
  const asked: string[][] = [];
  const answer = (text: string | Error) => (file: string, args: string[]) => {
    asked.push([file, ...args]);
    return text instanceof Error ? Promise.reject(text) : Promise.resolve(text);
  };
  expect(await desktopHasTray('darwin', answer(new Error('never asked')))).toBe(true);
  expect(await desktopHasTray('win32', answer(new Error('never asked')))).toBe(true);
  expect(asked).toEqual([]);
  // KDE, or GNOME with the AppIndicator extension.
  expect(await desktopHasTray('linux', answer('(<true>,)\n'))).toBe(true);
  expect(asked[0]).toContain('IsStatusNotifierHostRegistered');
  // A watcher with no panel to draw items.
  expect(await desktopHasTray('linux', answer('(<false>,)\n'))).toBe(false);
  // Plain GNOME: no watcher at all (or no gdbus).
  const noWatcher = new Error('The name org.kde.StatusNotifierWatcher was not provided');
  expect(await desktopHasTray('linux', answer(noWatcher))).toBe(false);
});
