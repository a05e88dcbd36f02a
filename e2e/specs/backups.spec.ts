// Backups an owner can trust, on the lab's real devices with real restic: set up with a
// recovery kit, the schedule backs Counter up by itself, a restore brings its boot counter back,
// the restore drill boots a scratch copy, a cut mid-backup leaves nothing half-taken and the app
// running, and a new computer with only the recovery kit restores Counter onto another device.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { Lab } from '../lab/fixture';
import { expect } from '../support/browser-mode';
import { startBrowserModeProcess, stopProcess } from '../support/browser-mode';
import { test } from '../support/catalog-test';
import { attachAppsReportOnFailure } from '../support/device-report';
import { removeAppFromDevice } from '../support/device-apps';
import { nav, setUpBackups } from '../support/backups-setup';
import { installFromCatalog, prepareByAddress, preparePi } from '../support/wizard';

test.afterEach(({ lab }, testInfo) => attachAppsReportOnFailure(lab, testInfo));

// A schedule's "hour" is 2.5 s here, so "daily" comes round every minute.
const HOUR_MS = 2_500;
const documents = mkdtempSync(join(tmpdir(), 'hearth-e2e-documents-'));
test.afterAll(() => rmSync(documents, { recursive: true, force: true }));

const backupArgs = [
  '--documents',
  documents,
  '--backup-hour-ms',
  String(HOUR_MS),
  '--backup-tick-ms',
  '1000',
];

test.use({
  serveArgs: async ({ catalog }, use) =>
    use(['--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey, ...backupArgs]),
});

/** The boot count of the last boot in the log (a restore goes back to a lower one). */
function lastBoot(text: string | null): number {
  const boots = [...(text ?? '').matchAll(/boot (\d+)/g)];
  return Number(boots.at(-1)?.[1] ?? 0);
}

/** The boot counter Counter printed last, read from its console log on the device. */
async function bootOnDevice(
  lab: { exec: (d: string, c: string[]) => Promise<{ stdout: string }> },
  device: string,
  appId = 'counter',
) {
  const log = await lab.exec(device, ['cat', `/var/lib/hearth/apps/${appId}/console.log`]);
  return lastBoot(log.stdout);
}

const card = (page: Page, app: string): Locator =>
  page
    .getByRole('list', { name: 'Backups of your apps' })
    .getByRole('article', { name: app, exact: true });

async function pointsOf(page: Page, app: string): Promise<number> {
  await card(page, app)
    .getByRole('button', { name: `Restore ${app}…` })
    .click();
  const list = page.getByRole('list', { name: `Backups of ${app}, newest first` });
  await expect(list).toBeVisible({ timeout: 30_000 });
  const count = await list.getByRole('listitem').count();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  return count;
}

/** From first launch: the Pi prepared as "Living-room Pi", Counter installed and running. */
async function counterOnPi(page: Page, lab: Lab) {
  await removeAppFromDevice(lab, 'pi', 'counter');
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await preparePi(page, lab, 'Living-room Pi');
  await installFromCatalog(page, 'Counter');
  // Exact: the same Pi may also run Visit counter (the apps spec installs it).
  const installed = page
    .getByRole('list', { name: 'Installed apps' })
    .getByRole('article', { name: 'Counter', exact: true });
  await expect(installed).toContainText('Running', { timeout: 180_000 });
  return installed;
}

/**
 * The schedule's first run, seen on the card. The card is waited for first: before it is shown
 * there is no "None yet" either, and the schedule could be turned off before it ran at all.
 */
async function firstScheduledBackup(appCard: Locator) {
  await expect(appCard).toBeVisible({ timeout: 30_000 });
  await expect(appCard.getByText('None yet')).toHaveCount(0, { timeout: 120_000 });
}

async function backUpNow(page: Page, app: string) {
  const c = card(page, app);
  await c.getByRole('button', { name: `Back up ${app} now` }).click();
  await expect(c).toContainText(/is backed up/, { timeout: 120_000 });
}

test('Counter is backed up by the schedule, and a restore brings its boot count back', async ({
  page,
  lab,
}) => {
  test.setTimeout(15 * 60_000);
  const installed = await counterOnPi(page, lab);

  await setUpBackups(page, join(documents, 'Living-room backups'));
  const counter = card(page, 'Counter');

  await test.step('the schedule backs Counter up by itself, and again when the next run is due', async () => {
    await firstScheduledBackup(counter);
    const lastBackup = () => counter.locator('time').first().getAttribute('datetime');
    const first = await lastBackup();
    // "Daily" is a minute here: the next run comes by itself. (Retention keeps one point a
    // day, so the list stays at one point; the time of the last backup moves on.)
    await expect.poll(lastBackup, { timeout: 150_000 }).not.toBe(first);
    expect(await pointsOf(page, 'Counter')).toBe(1);
    await counter.getByRole('combobox', { name: 'How often' }).selectOption('off');
  });

  let backedUp = 0;
  await test.step('Back up now, then restart Counter twice: its boot counter grows', async () => {
    backedUp = await bootOnDevice(lab, 'pi');
    await backUpNow(page, 'Counter');
    for (let i = 0; i < 2; i++) {
      await lab.exec('pi', [
        'sudo',
        '-u',
        'hearth',
        'sudo',
        '-n',
        '/usr/local/lib/hearth/agent',
        'restart',
        'counter',
      ]);
      await expect.poll(() => bootOnDevice(lab, 'pi'), { timeout: 60_000 }).toBe(backedUp + i + 1);
    }
  });

  await test.step('restore the newest backup: Counter boots on the data it had then', async () => {
    await counter.getByRole('button', { name: 'Restore Counter…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(dialog).toContainText('Counter is back as it was', { timeout: 180_000 });
    await dialog.getByRole('button', { name: 'Close' }).click();
    // The volume held boot N; restored, Counter boots once more: N + 1, not N + 3.
    await expect.poll(() => bootOnDevice(lab, 'pi'), { timeout: 60_000 }).toBe(backedUp + 1);
    await nav(page, 'Apps');
    await expect(installed).toContainText('Running', { timeout: 60_000 });
    await nav(page, 'Backups');
  });
});

test('the restore drill boots a scratch copy; a cut mid-backup leaves nothing half-taken and the app running', async ({
  page,
  lab,
}) => {
  test.setTimeout(15 * 60_000);
  await counterOnPi(page, lab);
  await setUpBackups(page, join(documents, 'Drill backups'));
  const counter = card(page, 'Counter');
  await firstScheduledBackup(counter);
  await counter.getByRole('combobox', { name: 'How often' }).selectOption('off');
  // Nothing restarts Counter from here until the restore: its point holds this boot.
  const backedUp = await bootOnDevice(lab, 'pi');

  await test.step('the restore drill boots a scratch copy on the device and removes it', async () => {
    await counter
      .getByRole('button', { name: 'Check Counter can be restored', exact: true })
      .click();
    await expect(counter).toContainText(
      /Restore check .*: Counter\s+started from its backup and worked/,
      { timeout: 180_000 },
    );
    // The scratch copy is gone (the Pi may also hold Visit counter from the apps spec).
    const left = await lab.exec('pi', ['ls', '/var/lib/hearth/apps']);
    const folders = left.stdout.split('\n').filter(Boolean);
    expect(folders).toContain('counter');
    expect(folders).not.toContain('counter-drill');
    const units = await lab.exec('pi', [
      'sh',
      '-c',
      'systemctl list-units --all --no-legend "hearth-app@counter-drill*" | wc -l',
    ]);
    expect(units.stdout.trim()).toBe('0');
    // The drill left the real Counter alone: still on the boot it had.
    expect(await bootOnDevice(lab, 'pi')).toBe(backedUp);
  });

  await test.step('the link is cut mid-backup: no new point, the app runs (not paused)', async () => {
    const before = await pointsOf(page, 'Counter');
    // Retention keeps one point a day, so the count alone would not see a run that finished.
    const lastBackup = () => counter.locator('time').first().getAttribute('datetime');
    const lastBefore = await lastBackup();
    await lab.shape('pi', '200kbit');
    try {
      await counter.getByRole('button', { name: 'Back up Counter now', exact: true }).click();
      await expect(counter).toContainText(/Saving Counter’s data/, { timeout: 60_000 });
      await lab.cut('pi');
      await expect(counter).toContainText(/connection|reach|responding/i, { timeout: 120_000 });
    } finally {
      await lab.heal('pi');
      await lab.unshape('pi');
    }
    // Running, not paused: QEMU says so itself ("running": false would be a paused VM).
    const qmp = await lab.exec('pi', ['/var/lib/hearth/apps/counter/qmp', 'query-status']);
    expect(qmp.stdout).toMatch(/"running":\s*true/);
    // The copy the cut run was sending does not outlive it.
    await expect
      .poll(
        async () => {
          const data = await lab.exec('pi', ['ls', '-A', '/var/lib/hearth/apps/counter/data']);
          return data.stdout.split('\n').filter((f) => f.includes('.img.'));
        },
        { timeout: 120_000 },
      )
      .toEqual([]);
    await expect.poll(() => pointsOf(page, 'Counter'), { timeout: 60_000 }).toBe(before);
    expect(await lastBackup()).toBe(lastBefore);
  });

  await test.step('the point taken before the cut still restores', async () => {
    for (let i = 0; i < 2; i++) {
      await lab.exec('pi', [
        'sudo',
        '-u',
        'hearth',
        'sudo',
        '-n',
        '/usr/local/lib/hearth/agent',
        'restart',
        'counter',
      ]);
      await expect.poll(() => bootOnDevice(lab, 'pi'), { timeout: 60_000 }).toBe(backedUp + i + 1);
    }
    await counter.getByRole('button', { name: 'Restore Counter…', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(dialog).toContainText('Counter is back as it was', { timeout: 180_000 });
    await dialog.getByRole('button', { name: 'Close' }).click();
    // The point held boot N; restored, Counter boots once more: N + 1, not N + 3.
    await expect.poll(() => bootOnDevice(lab, 'pi'), { timeout: 60_000 }).toBe(backedUp + 1);
  });
});

test('a new computer with only the recovery kit restores Counter onto another device', async ({
  page,
  lab,
  catalog,
  browser,
}) => {
  test.setTimeout(15 * 60_000);
  await counterOnPi(page, lab);
  const folder = join(documents, 'Hearth Backups');
  const { password } = await setUpBackups(page, folder);
  const counter = card(page, 'Counter');
  await firstScheduledBackup(counter);
  const backedUp = await bootOnDevice(lab, 'pi');
  await counter.getByRole('combobox', { name: 'How often' }).selectOption('off');
  await backUpNow(page, 'Counter');

  // The laptop is lost: a fresh Hearth with a new user-data folder, and the kit.
  const userData = mkdtempSync(join(tmpdir(), 'hearth-e2e-new-laptop-'));
  const args = ['--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey, ...backupArgs];
  const second = await startBrowserModeProcess(userData, args, lab.laptopArgv([]));
  const context = await browser.newContext();
  const fresh = await context.newPage();
  try {
    await fresh.goto(second.url);
    await fresh.getByRole('button', { name: 'Explore Hearth' }).click();
    await prepareByAddress(fresh, lab, 'hearth', 'Kitchen Pi');
    await nav(fresh, 'Backups');
    await fresh
      .getByRole('button', { name: 'I already have backups (from a recovery kit)' })
      .click();
    await fresh.getByRole('button', { name: /^Choose (the|another) folder…$/ }).click();
    await fresh.getByRole('textbox', { name: 'Folder with your backups' }).fill(folder);
    await fresh.getByRole('textbox', { name: 'Password from your recovery kit' }).fill(password);
    await fresh.getByRole('button', { name: 'Open backups' }).click();
    await fresh.getByRole('button', { name: 'Restore Counter onto a device…' }).click();
    const dialog = fresh.getByRole('dialog');
    await dialog
      .getByRole('combobox', { name: 'Restore onto' })
      .selectOption({ label: 'Kitchen Pi' });
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(dialog).toContainText('Counter is back as it was', { timeout: 240_000 });
    await expect.poll(() => bootOnDevice(lab, 'hearth'), { timeout: 60_000 }).toBe(backedUp + 1);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await nav(fresh, 'Apps');
    const onKitchen = fresh
      .getByRole('list', { name: 'Installed apps' })
      .getByRole('article', { name: 'Counter' });
    await expect(onKitchen).toContainText('on Kitchen Pi', { timeout: 60_000 });
    await expect(onKitchen).toContainText('Running', { timeout: 60_000 });
  } finally {
    await context.close();
    await stopProcess(second.child);
    rmSync(userData, { recursive: true, force: true });
  }
});
