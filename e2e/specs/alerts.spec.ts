// Alerts on a real lab device, as the owner meets them in Activity: a disk that fills up, an
// app that keeps crashing, a device that stops answering. Each is raised once, in words, with
// the one action that fixes it, and each resolves quietly when its condition clears. The
// thresholds are seconds here (minutes for an owner), set through browser mode's flags.
import type { Locator, Page } from '@playwright/test';
import { expect } from '../support/browser-mode';
import { catalogArgs, test } from '../support/catalog-test';
import { removeAppFromDevice } from '../support/device-apps';
import { smallDataDisk } from '../support/device-disk';
import type { SmallDataDisk } from '../support/device-disk';
import { attachAppsReportOnFailure } from '../support/device-report';
import { installFromCatalog, preparePi } from '../support/wizard';

const APPS = ['counter', 'crasher'];
let disk: SmallDataDisk | null = null;

test.afterEach(async ({ lab }, testInfo) => {
  await attachAppsReportOnFailure(lab, testInfo);
  // Whatever happened, the worker's later specs get the Pi back as it was: cable in, apps off
  // it, its own disk.
  await lab.heal('pi');
  for (const app of APPS) await removeAppFromDevice(lab, 'pi', app);
  await disk?.restore();
  disk = null;
});

test.use({
  serveArgs: async ({ catalog }, use) =>
    use([
      ...catalogArgs(catalog),
      // Offline after 3 s without an answer (2 minutes for an owner), resolved after 2 s away
      // (a minute), the disk read every second (5 minutes).
      '--alert-offline-ms',
      '3000',
      '--alert-settle-ms',
      '2000',
      '--alert-disk-every-ms',
      '1000',
    ]),
});

async function openActivity(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Activity' })
    .click();
}

/** An alert in one of Activity's lists, by its whole sentence. */
function alertIn(list: Locator, sentence: string | RegExp): Locator {
  return list.getByRole('article', { name: sentence, exact: true });
}

test('Activity tells the owner what needs them, once, and quietly when it is fixed', async ({
  page,
  lab,
}) => {
  test.setTimeout(8 * 60_000);
  const attention = page.getByRole('list', { name: 'Needs your attention' });
  const earlier = page.getByRole('list', { name: 'Earlier alerts' });

  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await preparePi(page, lab, 'Porch Pi');
  // The worker's earlier specs may have left these on the Pi; the small disk hides the rest.
  for (const app of APPS) await removeAppFromDevice(lab, 'pi', app);
  disk = await smallDataDisk(lab, 'pi', 64);

  const counter = await installFromCatalog(page, 'Counter');
  await expect(counter).toContainText('Running', { timeout: 180_000 });

  await test.step('a disk filled past 90% raises the disk alert; freeing it resolves it', async () => {
    await openActivity(page);
    await disk!.fill(95);
    const full = alertIn(
      attention,
      /^Porch Pi's disk is 9\d% full\. When it is full, apps stop saving data and backups fail\. Remove apps or data you no longer need\.$/,
    );
    await expect(full).toBeVisible({ timeout: 30_000 });
    await expect(full.getByRole('button', { name: 'Show the device' })).toBeVisible();
    await expect(attention.getByRole('article')).toHaveCount(1);

    await disk!.free();
    await expect(full).toHaveCount(0, { timeout: 30_000 });
    await expect(alertIn(earlier, "Porch Pi's disk has room again.")).toBeVisible();
  });

  await test.step("Crasher raises one crash alert, whose action opens Crasher's console", async () => {
    await installFromCatalog(page, 'Crasher');
    await openActivity(page);
    const gaveUp = alertIn(
      attention,
      'Crasher on Porch Pi kept stopping right after it started, so the device stopped trying. ' +
        'Its data is safe. Try starting it again; if it keeps happening, reinstall or remove it.',
    );
    await expect(gaveUp).toBeVisible({ timeout: 180_000 });
    // Crashed, restarting, gave up: one alert that changed its words, not one per crash.
    await expect(attention.getByRole('article', { name: /Crasher/ })).toHaveCount(1);

    await gaveUp.getByRole('button', { name: "Open Crasher's console", exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Apps' })).toBeVisible();
    const card = page
      .getByRole('list', { name: 'Installed apps' })
      .getByRole('article', { name: 'Crasher', exact: true });
    await expect(card).toBeFocused();
    await expect(card).toBeInViewport();
    const console = card.getByRole('log', { name: 'Console of Crasher' });
    await expect(console).toBeVisible();
    await expect(console).toContainText('mode crash');
    await expect(console).toContainText('PANIC');
  });

  await test.step('a device cut off the network is called offline, then back online after heal', async () => {
    await openActivity(page);
    await lab.cut('pi');
    const offline = alertIn(
      attention,
      'Porch Pi is not answering, so Hearth cannot look after its apps. Check that it is ' +
        'switched on and connected to your home network.',
    );
    await expect(offline).toBeVisible({ timeout: 90_000 });
    await expect(offline.getByRole('button', { name: 'Show the device' })).toBeVisible();

    await lab.heal('pi');
    await expect(offline).toHaveCount(0, { timeout: 90_000 });
    await expect(alertIn(earlier, 'Porch Pi is back online.')).toBeVisible();
  });
});
