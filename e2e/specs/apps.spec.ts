// Data unikernels on a real lab device: install from a signed catalog, Running with READY on
// the console, stop and start with data kept, supervision across a power cut, a crashing app
// that systemd gives up on, and removal that keeps data unless the name is typed.
import type { Page } from '@playwright/test';
import type { Lab } from '../lab/fixture';
import { laptopArgv } from '../lab/lab';
import { startLaptopAvahi } from '../lab/laptop-avahi';
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

/** From first launch: prepare the lab's Pi under `deviceName`, then install `app` from the catalog. */
async function installOnFreshPi(page: Page, lab: Lab, deviceName: string, app: string) {
  // The worker's earlier specs may have left the app on the Pi; its card would offer no Install.
  await removeAppFromDevice(lab, 'pi', app.toLowerCase());
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await preparePi(page, lab, deviceName);
  return installFromCatalog(page, app);
}

test('the owner installs Counter; it runs, keeps its data across stop and start, and survives a power cut', async ({
  page,
  lab,
}) => {
  test.setTimeout(10 * 60_000);
  const installed = await installOnFreshPi(page, lab, 'Living-room Pi', 'Counter');
  await expect(installed).toContainText('Running', { timeout: 180_000 });
  await expect(installed).toContainText('on Living-room Pi');
  await installed.getByRole('button', { name: 'Console of Counter' }).click();
  const console = page.getByRole('log', { name: 'Console of Counter' });
  await expect(console).toContainText('READY');
  await expect(console).toContainText('boot 1');

  await test.step('stop and start: the boot counter grows, so its data was kept', async () => {
    await installed.getByRole('button', { name: 'Stop Counter', exact: true }).click();
    await expect(installed).toContainText('Stopped', { timeout: 60_000 });
    await installed.getByRole('button', { name: 'Start Counter', exact: true }).click();
    await expect(installed).toContainText('Running', { timeout: 60_000 });
    await expect(console).toContainText('boot 2', { timeout: 30_000 });
  });

  await test.step('the device loses power and comes back: Counter runs again without anyone touching Hearth', async () => {
    await lab.poweroff('pi');
    await expect(installed).toContainText('Device offline', { timeout: 60_000 });
    await lab.boot('pi');
    await expect(installed).toContainText('Running', { timeout: 120_000 });
    const log = await lab.exec('pi', [
      'sh',
      '-c',
      'grep -c READY /var/lib/hearth/apps/counter/console.log',
    ]);
    expect(Number(log.stdout.trim())).toBeGreaterThanOrEqual(3);
  });

  await test.step('giving it more memory restarts it with that much, data kept', async () => {
    const boots = [...((await console.textContent()) ?? '').matchAll(/boot (\d+)/g)];
    const before = Math.max(0, ...boots.map((m) => Number(m[1])));
    await installed.getByRole('button', { name: 'More for Counter' }).click();
    await installed.getByRole('spinbutton', { name: 'Memory for Counter (MB)' }).fill('48');
    await installed.getByRole('button', { name: 'Save' }).click();
    await expect(installed.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible({
      timeout: 90_000,
    });
    await expect(installed).toContainText(/(may use up to|of) 48 MB/);
    await expect(installed).toContainText('Running', { timeout: 60_000 });
    // The device itself now runs the app in 48 MiB, and its data came along.
    const argv = await lab.exec('pi', ['sh', '-c', 'ps -o args= -u hearth | grep qemu-system']);
    expect(argv.stdout).toMatch(/ -m 48( |$)/m);
    await expect(console).toContainText(`boot ${before + 1}`, { timeout: 30_000 });
  });

  await test.step('removing keeps its data unless its name is typed', async () => {
    await installed.getByRole('button', { name: 'Remove Counter' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Counter?' });
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(installed).toHaveCount(0, { timeout: 90_000 });
    const left = await lab.exec('pi', [
      'sh',
      '-c',
      'ls -A /var/lib/hearth/apps/counter; ls /var/lib/hearth/apps/counter/data',
    ]);
    expect(left.stdout.split('\n').filter(Boolean)).toEqual(['data', 'data.img']);
    expect(
      (await lab.exec('pi', ['systemctl', 'is-enabled', 'hearth-app@counter'])).stdout.trim(),
    ).not.toBe('enabled');
  });
});

test('an app that keeps crashing is restarted, then given up on, with a plain explanation', async ({
  page,
  lab,
}) => {
  test.setTimeout(8 * 60_000);
  const card = await installOnFreshPi(page, lab, 'Hall Pi', 'Crasher');
  await expect(card).toContainText(/Restarting|Crashed|Gave up/, { timeout: 180_000 });
  await expect(card).toContainText('Gave up', { timeout: 180_000 });
  await expect(card).toContainText('kept stopping right after it started');
  // The data is still there: giving up never deletes anything.
  expect(
    (await lab.exec('pi', ['test', '-f', '/var/lib/hearth/apps/crasher/data/data.img'])).code,
  ).toBe(0);

  await test.step('removing it with its name typed deletes its data too', async () => {
    await card.getByRole('button', { name: 'Remove Crasher' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Crasher?' });
    await dialog
      .getByRole('textbox', { name: 'To delete its data too, type Crasher' })
      .fill('Crasher');
    await dialog.getByRole('button', { name: 'Remove and delete data' }).click();
    await expect(card).toHaveCount(0, { timeout: 90_000 });
    expect((await lab.exec('pi', ['test', '-e', '/var/lib/hearth/apps/crasher'])).code).not.toBe(0);
    expect(
      (await lab.exec('pi', ['systemctl', 'is-enabled', 'hearth-app@crasher'])).stdout.trim(),
    ).not.toBe('enabled');
  });
});

test('a networked app publishes its port: the Open link answers from the laptop, and its visit count survives a restart', async ({
  page,
  lab,
}) => {
  test.setTimeout(8 * 60_000);
  // The laptop resolves .local names as most do: through its own avahi (nss-mdns).
  const avahi = await startLaptopAvahi(laptopArgv);
  try {
    await networkedApp(page, lab);
  } finally {
    await avahi.stop();
  }
});

async function networkedApp(page: Page, lab: Lab) {
  const card = await installOnFreshPi(page, lab, 'Study Pi', 'Visit counter');
  // Running is decided by the HTTP health probe, made from the laptop side.
  await expect(card).toContainText('Running', { timeout: 240_000 });
  const link = card.getByRole('link', { name: 'Open Visit counter' });
  // The device's mDNS name, as the owner would type it, not an address the router may change.
  await expect(link).toHaveAttribute('href', 'http://raspberrypi.local:8080/', {
    timeout: 30_000,
  });
  const href = (await link.getAttribute('href')) ?? '';
  const address = (await lab.device('pi')).address;

  await test.step('the device announces it on the home network while it runs', async () => {
    const announced = async () =>
      (await lab.mdns('http', { timeoutMs: 3000 })).map(
        (s) => `${s.name} ${s.port} ${s.addresses.includes(address) ? 'on the device' : '?'}`,
      );
    await expect
      .poll(announced, { timeout: 30_000 })
      .toContain('Visit counter on raspberrypi 8080 on the device');
  });

  const visits = async () => {
    const answer = await lab.http(`${href}cgi-bin/visit`);
    expect(answer.ok).toBe(true);
    return Number(/\d+/.exec(answer.body ?? '')?.[0]);
  };
  const first = await visits();
  expect(await visits()).toBe(first + 1);

  await card.getByRole('button', { name: 'Restart Visit counter' }).click();
  await expect(card).toContainText('Running', { timeout: 180_000 });
  await expect
    .poll(async () => (await lab.http(`${href}cgi-bin/visit`)).ok, { timeout: 120_000 })
    .toBe(true);
  expect(await visits()).toBeGreaterThan(first + 1);
}

test('a cable cut during the upload leaves no image that could start; installing again picks up where it stopped', async ({
  page,
  lab,
}) => {
  test.setTimeout(10 * 60_000);
  // An earlier spec may have installed Visit counter on this Pi: start without its image.
  await removeAppFromDevice(lab, 'pi', 'visits');
  // About 1 MB/s: the 8 MiB kernel of Visit counter takes several seconds to send.
  await lab.shape('pi', '8mbit');
  await installOnFreshPi(page, lab, 'Attic Pi', 'Visit counter');
  const tasks = page.getByRole('article', { name: 'Install Visit counter on Attic Pi' });
  await expect(tasks).toContainText(
    // Part way (the image's size follows the lab's kernel build, so only its shape is known).
    /Sending Visit counter to the device: [1-6]\.\d MiB of \d+\.\d MiB/,
    {
      timeout: 180_000,
    },
  );
  await lab.cut('pi');
  await expect(tasks).toContainText('The connection to the device was lost', {
    timeout: 90_000,
  });

  await lab.heal('pi');
  await lab.unshape('pi');
  // On the device: a hidden partial copy, and no image that a launcher could start.
  const images = await lab.exec('pi', ['ls', '-A', '/var/lib/hearth/apps/visits/images']);
  expect(images.stdout).toMatch(/^\.[0-9a-f]{64}\.partial$/m);
  expect(images.stdout).not.toMatch(/^[0-9a-f]{64}$/m);
  expect(
    (await lab.exec('pi', ['test', '-e', '/var/lib/hearth/apps/visits/current'])).code,
  ).not.toBe(0);

  await page
    .getByRole('list', { name: 'Available apps' })
    .getByRole('article', { name: 'Visit counter' })
    .getByRole('button', { name: 'Install Visit counter' })
    .click();
  const installed = page
    .getByRole('list', { name: 'Installed apps' })
    .getByRole('article', { name: 'Visit counter' });
  await expect(installed).toContainText('Running', { timeout: 240_000 });
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Activity' })
    .click();
  await expect(
    tasks
      .filter({ hasText: 'Visit counter is running' })
      .getByRole('list', { name: /^Steps of / })
      .getByRole('listitem')
      .filter({ hasText: 'Send it to the device' }),
  ).toContainText(/Picked up where it stopped: [1-7]\.\d MiB were already there/);
});

test('a download that does not match the catalog is refused before anything reaches the device', async ({
  page,
  lab,
}) => {
  test.setTimeout(6 * 60_000);
  await installOnFreshPi(page, lab, 'Porch Pi', 'Tampered');
  const task = page.getByRole('article', { name: 'Install Tampered on Porch Pi' });
  await expect(task).toContainText('did not match what the catalog promised', { timeout: 120_000 });
  await expect(
    task
      .getByRole('list', { name: /^Steps of / })
      .getByRole('listitem')
      .filter({ hasText: 'Send it to the device' }),
  ).toContainText('Skipped');
  expect((await lab.exec('pi', ['test', '-e', '/var/lib/hearth/apps/tampered'])).code).not.toBe(0);
});
