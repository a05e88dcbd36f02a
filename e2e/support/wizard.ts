// The setup wizard as an owner goes through it, for specs that need a prepared device.
import type { Page } from '@playwright/test';
import { expect } from '@playwright/test';
import type { Lab } from '../lab/fixture';

/**
 * A device the lab just booted announces itself over mDNS a moment before its sshd accepts: an
 * owner would try again, a spec waits for it, so the wizard's one probe meets a device that is up.
 */
async function sshdAnswers(lab: Lab, device: string): Promise<void> {
  await expect
    .poll(async () => (await lab.ssh(device, 'true', { timeoutMs: 5_000 })).ok, { timeout: 60_000 })
    .toBe(true);
}

/** From the welcome (or the Devices view), prepares the lab's `pi` and names it. */
export async function preparePi(page: Page, lab: Lab, name: string): Promise<void> {
  const pi = await lab.device('pi');
  await sshdAnswers(lab, 'pi');
  const add = page.getByRole('button', { name: /^Add (your first )?device$/ }).first();
  await add.click();
  await page
    .getByRole('list', { name: 'Devices found' })
    .getByRole('listitem')
    .filter({ hasText: 'raspberrypi' })
    .getByRole('button')
    .click({ timeout: 30_000 });
  await confirmSignInAndName(page, pi, name);
}

/** The wizard from "Is this your device?" on: confirm, sign in, prepare, name it. */
async function confirmSignInAndName(
  page: Page,
  login: { user: string; password: string },
  name: string,
): Promise<void> {
  await page.getByRole('button', { name: 'Yes, this is my device' }).click();
  await page.getByRole('textbox', { name: 'User name' }).fill(login.user);
  await page.getByLabel('Password', { exact: true }).fill(login.password);
  await page.getByRole('button', { name: 'Prepare this device' }).click();
  await expect(page.getByRole('heading', { name: 'Name your device' })).toBeVisible({
    timeout: 180_000,
  });
  await page.getByRole('textbox', { name: 'Device name' }).fill(name);
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByRole('button', { name: 'Go to Devices' }).click();
}

/** From the welcome (or the Devices view), adds a lab device by its address, prepares and names it. */
export async function prepareByAddress(
  page: Page,
  lab: Lab,
  device: string,
  name: string,
): Promise<void> {
  const d = await lab.device(device);
  await sshdAnswers(lab, device);
  await page
    .getByRole('button', { name: /^Add (your first )?device$/ })
    .first()
    .click();
  await page.getByRole('textbox', { name: 'Address' }).fill(d.address);
  await page.getByRole('button', { name: 'Look for this address' }).click();
  await expect(page.getByText(d.hostKeyFingerprint, { exact: true })).toBeVisible({
    timeout: 30_000,
  });
  await confirmSignInAndName(page, d, name);
}

/** Installs `app` from the catalog in the Apps view and returns its installed card. */
export async function installFromCatalog(page: Page, app: string) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Apps' })
    .click();
  const install = page
    .getByRole('list', { name: 'Available apps' })
    .getByRole('article', { name: app, exact: true })
    .getByRole('button', { name: `Install ${app}` });
  // Fails in a minute, not at the test's timeout, when the device already holds the app.
  await expect(install, `${app} can be installed (is it still on the device?)`).toBeVisible({
    timeout: 60_000,
  });
  await install.click();
  // Exact: the lab's Pi is shared by a worker's specs, and "Counter" is also in "Visit counter".
  return page
    .getByRole('list', { name: 'Installed apps' })
    .getByRole('article', { name: app, exact: true });
}
