// Launches the real desktop app where an Electron binary exists. None can be downloaded
// on the CI machines (see shared/LAB.md), so there this reports that it was skipped.
import { existsSync, readFileSync } from 'node:fs';
import { hearthApiKeys } from '../../shared/hearth-api';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';

const root = join(import.meta.dirname, '..', '..');

/**
 * Finds an installed Electron binary without require('electron'): that module tries to
 * download the binary when it is missing, and nothing may be fetched from outside here.
 */
function electronBinary(): string | null {
  const packageDir = join(root, 'node_modules', 'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let name = 'electron';
  try {
    name = readFileSync(join(packageDir, 'path.txt'), 'utf8').trim() || name;
  } catch {
    if (!override) return null;
  }
  const binary = override ? join(override, name) : join(packageDir, 'dist', name);
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

test('the desktop app opens its window with window.hearth and no Node', async () => {
  test.skip(
    !binary,
    'no Electron binary on this machine (its download is blocked here); browser-mode specs cover the UI',
  );
  const app = await electron.launch({
    executablePath: binary!,
    args: [join(root, '.vite', 'build', 'main.cjs')],
  });
  const window = await app.firstWindow();
  await expect(window).toHaveTitle('Hearth');
  expect(
    await window.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require),
  ).toBe('undefined');
  expect(
    await window.evaluate(() =>
      Object.keys((globalThis as unknown as { hearth: object }).hearth).sort(),
    ),
  ).toEqual(hearthApiKeys);
  await app.close();
});
