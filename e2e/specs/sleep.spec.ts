// Apps that sleep when idle (issue 14): Visit counter set to sleep is shown sleeping with no
// QEMU on the device, wakes on its first HTTP request from the laptop side, falls asleep again
// after its idle time, keeps its visit count across more rounds within five minutes than
// systemd's start limit allows starts; with sleeping off it runs.
import type { Page } from '@playwright/test';
import { appUnitTemplate } from '../../electron/services/provisioning/device-files';
import type { Lab } from '../lab/fixture';
import { expect } from '../support/browser-mode';
import { test } from '../support/catalog-test';
import { attachAppsReportOnFailure } from '../support/device-report';
import { removeAppFromDevice } from '../support/device-apps';
import { installFromCatalog, preparePi } from '../support/wizard';

test.afterEach(({ lab }, testInfo) => attachAppsReportOnFailure(lab, testInfo));

test.use({
  serveArgs: async ({ catalog }, use) =>
    use(['--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey]),
});

const SLEEPING = 'Sleeping · wakes on the first visit';
/** The idle time the device is given here, so a round takes seconds rather than minutes. */
const TEST_IDLE_SECONDS = 5;
/** The app unit's start limit, as the device has it: so many starts within so many seconds. */
const startLimit = (key: 'StartLimitBurst' | 'StartLimitIntervalSec') =>
  Number(new RegExp(`^${key}=(\\d+)$`, 'm').exec(appUnitTemplate())?.[1]);
const START_LIMIT_INTERVAL_MS = startLimit('StartLimitIntervalSec') * 1000;
/** Two wakes more than the limit allows starts, so the first refused one would show. */
const WAKES_PAST_START_LIMIT = startLimit('StartLimitBurst') + 2;

/** Visit counter's QEMU on the Pi (other specs' apps may run their own beside it). */
async function visitsQemuRuns(lab: Lab): Promise<boolean> {
  const r = await lab.exec('pi', ['pgrep', '-f', 'qemu-system.*hearth-visits']);
  return r.code === 0;
}

async function installVisits(page: Page, lab: Lab) {
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await preparePi(page, lab, 'Guest-room Pi');
  return installFromCatalog(page, 'Visit counter');
}

test('Visit counter sleeps when idle, wakes on the first visit with its count, and runs on when sleeping is off', async ({
  page,
  lab,
}) => {
  test.setTimeout(20 * 60_000);
  await removeAppFromDevice(lab, 'pi', 'visits');
  try {
    const card = await installVisits(page, lab);
    await expect(card).toContainText('Running', { timeout: 240_000 });
    const base = `http://${(await lab.device('pi')).address}:8080/`;
    const visits = async (timeoutMs = 5_000) => {
      const answer = await lab.http(`${base}cgi-bin/visit`, timeoutMs);
      expect(answer.ok).toBe(true);
      return Number(/\d+/.exec(answer.body ?? '')?.[0]);
    };
    let count = await visits();

    await test.step('the owner turns sleeping on: the app is shown sleeping and uses no QEMU', async () => {
      await card.getByRole('button', { name: 'More for Visit counter' }).click();
      await card.getByRole('checkbox', { name: 'Sleep when idle' }).check();
      await card
        .getByRole('spinbutton', { name: 'Minutes without a visit before Visit counter sleeps' })
        .fill('1');
      await card.getByRole('button', { name: 'Apply', exact: true }).click();
      await expect(card).toContainText(SLEEPING, { timeout: 120_000 });
      await expect.poll(() => visitsQemuRuns(lab), { timeout: 60_000 }).toBe(false);
      // The device holds the published port itself now.
      const sockets = await lab.exec('pi', [
        'systemctl',
        'is-active',
        'hearth-sleep-visits.8080.socket',
      ]);
      expect(sockets.stdout.trim()).toBe('active');
      // A short idle time for the rounds below, set on the device as its agent would.
      const shorten = await lab.exec('pi', [
        'sh',
        '-c',
        `sed -i 's/^idle .*/idle ${TEST_IDLE_SECONDS}/' /var/lib/hearth/apps/visits/sleep && /usr/local/lib/hearth/agent sleep-on visits`,
      ]);
      expect(shorten.code, shorten.stderr).toBe(0);
      await expect(card).toContainText(SLEEPING, { timeout: 60_000 });
    });

    // More wakes than systemd's start limit allows starts (the unit template's), all within its
    // interval: a clean sleep must not count against the app, or the sixth visitor
    // is refused.
    const wokenAt: number[] = [];
    for (let round = 1; round <= WAKES_PAST_START_LIMIT; round += 1) {
      await test.step(`round ${round}: the first visit wakes it, with its count; then it sleeps again`, async () => {
        expect(await visitsQemuRuns(lab)).toBe(false);
        wokenAt.push(Date.now());
        // The first request waits for the boot (emulated here): the page loads, the count grows.
        const front = await lab.http(base, 240_000);
        expect(front.ok).toBe(true);
        const now = await visits();
        expect(now).toBeGreaterThan(count);
        count = now;
        expect(await visitsQemuRuns(lab)).toBe(true);
        await expect.poll(() => visitsQemuRuns(lab), { timeout: 120_000 }).toBe(false);
        await expect(card).toContainText(SLEEPING, { timeout: 60_000 });
      });
    }
    // Not a speed target: rounds spread over more than the interval would prove nothing.
    expect(
      wokenAt.at(-1)! - wokenAt[0]!,
      `the ${WAKES_PAST_START_LIMIT} wakes must fall within systemd's start-limit interval`,
    ).toBeLessThan(START_LIMIT_INTERVAL_MS);

    await test.step('with sleeping off it runs on past the idle time', async () => {
      await card.getByRole('checkbox', { name: 'Sleep when idle' }).uncheck();
      await card.getByRole('button', { name: 'Apply', exact: true }).click();
      await expect(card).toContainText('Running', { timeout: 240_000 });
      expect(await visits(30_000)).toBeGreaterThan(count);
      await page.waitForTimeout(3 * TEST_IDLE_SECONDS * 1000);
      expect(await visitsQemuRuns(lab)).toBe(true);
      await expect(card).toContainText('Running');
    });
  } finally {
    await removeAppFromDevice(lab, 'pi', 'visits');
  }
});
