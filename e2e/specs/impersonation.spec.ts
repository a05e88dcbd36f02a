// A computer on the home LAN pretends to be the owner's Pi: it has the Pi's hostname and
// login, and once the Pi is prepared it announces the Pi's Hearth id over mDNS, from its own
// address with its own host key. Hearth must refuse it before any password leaves the laptop,
// and the Pi Hearth knows must stay exactly as it was. One that claims nothing over mDNS but
// carries a copy of the Pi's device.json is prepared like any new device, and then refused
// when Hearth would save it over the Pi's record.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { avahiService } from '../../electron/services/provisioning/device-files';
import type { Lab } from '../lab/fixture';
import { expect, test } from '../support/browser-mode';
import { preparePi } from '../support/wizard';

test.use({ labPersonas: ['pi', 'impostor'] });

interface StoredDevice {
  id: string;
  name: string;
  hostKeyFingerprint: string;
  addresses: string[];
}

/** The devices Hearth keeps on this computer (its store file, as a restarted Hearth reads it). */
async function storedDevices(userDataDir: string): Promise<StoredDevice[]> {
  const file = await readFile(join(userDataDir, 'state', 'devices.json'), 'utf8');
  return (JSON.parse(file) as { data: { devices: StoredDevice[] } }).data.devices;
}

/** What the impostor's sshd logged about sign-ins ("Accepted password", "Failed password"). */
async function passwordAttempts(lab: Lab): Promise<string[]> {
  const log = await lab.exec('impostor', [
    'journalctl',
    '-u',
    'ssh.service',
    '-o',
    'cat',
    '--no-pager',
  ]);
  return log.stdout.split('\n').filter((line) => /password/i.test(line));
}

test('a computer that announces the Pi’s name and Hearth id is refused before any password is sent', async ({
  page,
  lab,
  hearth,
}) => {
  test.setTimeout(8 * 60_000);
  const pi = await lab.device('pi');
  const impostor = await lab.device('impostor');
  expect(impostor.hostname).toBe(pi.hostname);
  expect(impostor.hostKeyFingerprint).not.toBe(pi.hostKeyFingerprint);

  await preparePi(page, lab, 'Living-room Pi');
  const before = await storedDevices(hearth.userDataDir);
  expect(before).toEqual([
    expect.objectContaining({
      name: 'Living-room Pi',
      hostKeyFingerprint: pi.hostKeyFingerprint,
      addresses: [pi.address],
    }),
  ]);
  const piId = before[0]!.id;

  await test.step('the impostor announces the Pi’s Hearth id, as provisioning writes it', async () => {
    const wrote = await lab.exec(
      'impostor',
      ['sh', '-c', 'cat > /etc/avahi/services/hearth.service'],
      { input: avahiService({ id: piId, arch: 'x86_64', hv: 'qemu', v: '1' }) },
    );
    expect(wrote.code, wrote.stderr).toBe(0);
    // avahi was kept off so it could not race the Pi for raspberrypi.local at boot; now the
    // Pi defends its name and the impostor's avahi falls back to raspberrypi-2.local.
    const started = await lab.exec('impostor', [
      'sh',
      '-c',
      'rm -f /etc/systemd/system/avahi-daemon.service /etc/systemd/system/avahi-daemon.socket && systemctl daemon-reload && systemctl start avahi-daemon',
    ]);
    expect(started.code, started.stderr).toBe(0);
    await expect
      .poll(
        async () =>
          (await lab.mdns('hearth', { timeoutMs: 3000 }))
            .filter((s) => s.txt.id === piId)
            .flatMap((s) => s.addresses),
        { timeout: 60_000 },
      )
      .toContain(impostor.address);
  });

  await test.step('choosing it is refused by name, and no sign-in is offered', async () => {
    await page
      .getByRole('button', { name: /^Add (your first )?device$/ })
      .first()
      .click();
    const found = page.getByRole('list', { name: 'Devices found' });
    const item = found.getByRole('listitem').filter({ hasText: impostor.address });
    await expect(item).toContainText('Already a Hearth device', { timeout: 60_000 });
    // The real Pi stays its own entry, at its own address.
    await expect(found.getByRole('listitem').filter({ hasText: pi.address })).toHaveCount(1);
    await item.getByRole('button').click();
    const alert = page.getByRole('alert').filter({
      hasText: 'This is not your Living-room Pi: it uses its name but proves a different identity',
    });
    await expect(alert).toBeVisible({ timeout: 30_000 });
    await expect(alert).toContainText(`Your Living-room Pi: ${pi.hostKeyFingerprint}`);
    await expect(alert).toContainText(
      `This device, at ${impostor.address}: ${impostor.hostKeyFingerprint}`,
    );
    await expect(alert).toContainText('forget it in Devices, then add it again');
    await expect(page.getByRole('button', { name: 'Yes, this is my device' })).toHaveCount(0);
    await expect(page.getByRole('heading', { name: 'Sign in to your device' })).toHaveCount(0);
  });

  await test.step('even a page that skips the wizard cannot get Hearth to sign in to it', async () => {
    // What a tampered window could ask for directly: main refuses before connecting.
    const { taskId } = await page.evaluate(
      ({ address, fingerprint }) =>
        window.hearth.provisioning.start({
          address,
          port: 22,
          fingerprint,
          username: 'pi',
          password: 'raspberry',
          allowInstall: false,
        }),
      { address: impostor.address, fingerprint: impostor.hostKeyFingerprint },
    );
    await expect
      .poll(async () => {
        const tasks = await page.evaluate(() => window.hearth.tasks.list());
        const task = tasks.find((t) => t.id === taskId);
        return task?.state === 'failed' ? task.error?.code : task?.state;
      })
      .toBe('IMPERSONATION');
  });

  await test.step('no password reached it, and the Pi Hearth knows is unchanged', async () => {
    expect(await passwordAttempts(lab)).toEqual([]);
    expect(await storedDevices(hearth.userDataDir)).toEqual(before);
    await page.getByRole('button', { name: 'Go back' }).click();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: 'Devices' })
      .click();
    const devices = page.getByRole('list', { name: 'Your devices' });
    await expect(devices.getByRole('article')).toHaveCount(1);
    await expect(devices.getByRole('article', { name: 'Living-room Pi' })).toContainText(
      pi.address,
    );
  });

  await test.step('the impostor would have taken the password: its sshd logs a sign-in', async () => {
    // Proves the log above could have shown one: the same login, sent on purpose, is logged.
    const signIn = await lab.ssh('impostor', 'true');
    expect(signIn).toMatchObject({ ok: true });
    await expect
      .poll(() => passwordAttempts(lab))
      .toEqual([expect.stringContaining('Accepted password for pi')]);
  });
});

test('a copy of the Pi’s device.json on another computer cannot take over the Pi’s record', async ({
  page,
  lab,
  hearth,
}) => {
  test.setTimeout(8 * 60_000);
  const pi = await lab.device('pi');
  const impostor = await lab.device('impostor');
  // The lab outlives a test: silence what the test above made the impostor announce.
  await lab.exec('impostor', [
    'sh',
    '-c',
    'rm -f /etc/avahi/services/hearth.service; systemctl stop avahi-daemon.socket avahi-daemon.service 2>/dev/null; true',
  ]);
  await preparePi(page, lab, 'Living-room Pi');
  const before = await storedDevices(hearth.userDataDir);

  // It announces nothing (so nothing warns before sign-in): it only holds the Pi's Hearth id,
  // which provisioning reads back from /etc/hearth/device.json, copied with the hearth account
  // that owns it on a real Hearth device (a root-owned copy is refused sooner, as tampering).
  const deviceJson = (await lab.exec('pi', ['cat', '/etc/hearth/device.json'])).stdout;
  const copied = await lab.exec(
    'impostor',
    [
      'sh',
      '-c',
      'id hearth >/dev/null 2>&1 || useradd --system --create-home --home-dir /home/hearth --shell /bin/sh hearth; install -d -m 755 /etc/hearth && cat > /etc/hearth/device.json && chown hearth:hearth /etc/hearth/device.json',
    ],
    { input: deviceJson },
  );
  expect(copied.code, copied.stderr).toBe(0);

  await page
    .getByRole('button', { name: /^Add (your first )?device$/ })
    .first()
    .click();
  await page.getByRole('textbox', { name: 'Address' }).fill(impostor.address);
  await page.getByRole('button', { name: 'Look for this address' }).click();
  await expect(page.getByText(impostor.hostKeyFingerprint, { exact: true })).toBeVisible({
    timeout: 30_000,
  });
  // Nothing it announced points at a device Hearth knows: to Hearth it is a new device.
  await page.getByRole('button', { name: 'Yes, this is my device' }).click({ timeout: 10_000 });
  await page.getByRole('textbox', { name: 'User name' }).fill(impostor.user);
  await page.getByLabel('Password', { exact: true }).fill(impostor.password);
  await page.getByRole('button', { name: 'Prepare this device' }).click();
  const refused = page.getByRole('alert').filter({
    hasText: 'This device says it is your Living-room Pi, but it proves a different identity',
  });
  await expect(refused).toBeVisible({ timeout: 180_000 });
  await expect(page.getByRole('button', { name: 'Try again' })).toHaveCount(0);

  // The Pi's pinned key and address are exactly as they were, and it is still the one device.
  expect(await storedDevices(hearth.userDataDir)).toEqual(before);
  expect(before[0]).toMatchObject({
    hostKeyFingerprint: pi.hostKeyFingerprint,
    addresses: [pi.address],
  });
  await page.getByRole('button', { name: 'Go back' }).click();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Devices' })
    .click();
  await expect(page.getByRole('list', { name: 'Your devices' }).getByRole('article')).toHaveCount(
    1,
  );
});
