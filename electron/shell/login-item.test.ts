import type { App } from 'electron';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { autostartEntry, HIDDEN_FLAG, loginItem, startedAtLogin } from './login-item';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-login-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The OS's list of login items, as Electron reaches it on macOS and Windows. */
function fakeApp(wasOpenedAtLogin = false) {
  const set: unknown[] = [];
  let openAtLogin = false;
  const app = {
    setLoginItemSettings: (s: { openAtLogin: boolean }) => {
      set.push(s);
      openAtLogin = s.openAtLogin;
    },
    getLoginItemSettings: () => ({ openAtLogin, wasOpenedAtLogin }),
  } as unknown as Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings'>;
  return { app, set };
}

describe('start at login', () => {
  it.each(['darwin', 'win32'] as const)(
    'on %s goes through the system’s own list, started hidden',
    async (platform) => {
      const { app, set } = fakeApp();
      const item = loginItem({ app, platform, command: '/x', configHome: dir });
      await item.set(true);
      expect(await item.isEnabled()).toBe(true);
      await item.set(false);
      expect(await item.isEnabled()).toBe(false);
      expect(set).toEqual([
        { openAtLogin: true, args: [HIDDEN_FLAG] },
        { openAtLogin: false, args: [HIDDEN_FLAG] },
      ]);
    },
  );

  it('on Windows is removed with Hearth, and kept through an update, by the installer', async () => {
    // Electron names the Run value after the AppUserModelID (no `name` is passed above);
    // electron-builder's NSIS includes resources/installer.nsh (its buildResources, no
    // nsis.include set) and defines APP_ID as the appId, app-id.ts's.
    const builder = parse(await readFile(join(root, 'electron-builder.yml'), 'utf8')) as {
      directories: { buildResources: string };
      nsis: Record<string, unknown>;
    };
    expect(builder.nsis).not.toHaveProperty('include');
    const nsh = await readFile(
      join(root, builder.directories.buildResources, 'installer.nsh'),
      'utf8',
    );
    const uninstall = /^!macro customUnInstall\n([\s\S]*?)^!macroend$/m.exec(nsh)?.[1] ?? '';
    const unlessUpdating = /\$\{ifNot\} \$\{isUpdated\}\n([\s\S]*?)\$\{endIf\}/.exec(
      uninstall,
    )?.[1];
    expect(unlessUpdating).toContain(
      'DeleteRegValue HKCU "Software\\Microsoft\\Windows\\CurrentVersion\\Run" "${APP_ID}"',
    );
  });

  it('on Linux writes and removes an XDG autostart entry that starts Hearth hidden', async () => {
    const { app, set } = fakeApp();
    const item = loginItem({
      app,
      platform: 'linux',
      command: '/home/sam/Apps/Hearth.AppImage',
      configHome: dir,
    });
    expect(await item.isEnabled()).toBe(false);
    await item.set(true);
    const file = join(dir, 'autostart', 'hearth.desktop');
    const entry = await readFile(file, 'utf8');
    expect(entry).toContain('[Desktop Entry]');
    expect(entry).toContain('Exec="/home/sam/Apps/Hearth.AppImage" --hidden');
    expect(await item.isEnabled()).toBe(true);
    await item.set(false);
    expect(await item.isEnabled()).toBe(false);
    await item.set(false);
    expect(set).toEqual([]);
  });

  it('quotes a path with spaces or shell characters as the desktop entry spec asks', () => {
    expect(autostartEntry('/opt/My "Hearth"/$hearth')).toContain(
      'Exec="/opt/My \\"Hearth\\"/\\$hearth" --hidden',
    );
  });

  it('knows a run started by the login from one the owner started', () => {
    expect(startedAtLogin(['/x', HIDDEN_FLAG], fakeApp().app, 'linux')).toBe(true);
    expect(startedAtLogin(['/x'], fakeApp().app, 'win32')).toBe(false);
    expect(startedAtLogin(['/x'], fakeApp(true).app, 'darwin')).toBe(true);
  });
});
