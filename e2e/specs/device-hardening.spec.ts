// What the hearth account may do as root on a real device, and what an app may touch: one sudo
// command (Hearth's agent), which refuses anything but a verb and an app id; a planted symlink in
// hearth's home stops "prepare again" before root follows it; app units run sandboxed and still
// keep their data; and all of it on Debian 11, whose sudo 1.9.5 has no regular expressions.
import type { Locator, Page } from '@playwright/test';
import type { Lab } from '../lab/fixture';
import { expect } from '../support/browser-mode';
import { test } from '../support/catalog-test';
import { attachAppsReportOnFailure } from '../support/device-report';
import { installFromCatalog, prepareByAddress } from '../support/wizard';
import { removeAppFromDevice } from '../support/device-apps';

const agent = '/usr/local/lib/hearth/agent';

// The Debian 11 persona is brought up for this spec only (it boots a root of its own).
test.use({
  labPersonas: ['pi', 'bullseye'],
  serveArgs: async ({ catalog }, use) =>
    use(['--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey]),
});
test.afterEach(async ({ lab }, testInfo) => {
  for (const device of ['pi', 'bullseye']) await attachAppsReportOnFailure(lab, testInfo, device);
  if (testInfo.status !== testInfo.expectedStatus && process.env.HEARTH_E2E_DUMP) {
    for (const device of ['pi', 'bullseye']) {
      const said = await lab.exec(device, [
        'sh',
        '-c',
        'journalctl --no-pager -n 120; ls -la /var/lib/hearth/apps/*; cat /var/lib/hearth/apps/*/run; tail -n 30 /var/lib/hearth/apps/*/console.log',
      ]);
      process.stderr.write(`==== ${device}\n${said.stdout}\n${said.stderr}\n`);
    }
  }
});

/** `sudo -l` as the hearth account: the commands it may run as root, one per line. */
async function hearthSudoRules(lab: Lab, device: string): Promise<string[]> {
  const listed = await lab.exec(device, ['sudo', '-u', 'hearth', 'sudo', '-n', '-l']);
  expect(listed.code).toBe(0);
  const out = listed.stdout;
  return out
    .slice(out.indexOf('may run the following commands'))
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Runs the agent as the hearth account would, through sudo. */
async function asHearthAgent(lab: Lab, device: string, ...args: string[]) {
  return lab.exec(device, ['sudo', '-u', 'hearth', 'sudo', '-n', agent, ...args]);
}

async function provesOneRootCommand(lab: Lab, device: string): Promise<void> {
  expect(await hearthSudoRules(lab, device)).toEqual([`(root) NOPASSWD: ${agent}`]);
  // The wildcard rule of old let `enable hearth-app@x /var/lib/hearth/pwn.service` through on
  // sudo before 1.9.10: the agent refuses it, and the unit it names never exists.
  await lab.exec(device, [
    'sh',
    '-c',
    'sudo -u hearth sh -c \'printf "[Service]\\nExecStart=/bin/id\\n" > /var/lib/hearth/pwn.service\'',
  ]);
  for (const args of [
    ['enable', 'x', '/var/lib/hearth/pwn.service'],
    ['start', 'x ssh.service'],
    ['daemon-reload', 'x'],
    ['stop', 'ssh.service'],
  ]) {
    const r = await asHearthAgent(lab, device, ...args);
    expect([args, r.code]).toEqual([args, 2]);
    expect(r.stderr).toContain('hearth agent:');
  }
  expect((await lab.exec(device, ['systemctl', 'is-enabled', 'pwn.service'])).code).not.toBe(0);
  expect((await lab.exec(device, ['systemctl', 'is-active', 'ssh.service'])).stdout.trim()).toBe(
    'active',
  );
  // Neither systemctl nor a shell as root, directly.
  for (const command of [['/usr/bin/systemctl', 'start', 'hearth-app@x'], ['/bin/sh']]) {
    const r = await lab.exec(device, ['sudo', '-u', 'hearth', 'sudo', '-n', '-l', ...command]);
    expect([command, r.code]).toEqual([command, 1]);
  }
}

/** systemd's view of the app unit, as an owner at a terminal would ask for it. */
async function unitSettings(lab: Lab, device: string, app: string) {
  const shown = await lab.exec(device, [
    'systemctl',
    'show',
    '-p',
    'ProtectSystem,NoNewPrivileges,ProtectHome,PrivateTmp,ReadWritePaths,MainPID',
    `hearth-app@${app}`,
  ]);
  return Object.fromEntries(
    shown.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
}

/** The running Counter unit is sandboxed as systemd and the kernel report it. */
async function provesCounterSandboxed(lab: Lab, device: string) {
  const unit = await unitSettings(lab, device, 'counter');
  expect(unit).toMatchObject({
    ProtectSystem: 'strict',
    NoNewPrivileges: 'yes',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    ReadWritePaths: '/var/lib/hearth/apps/counter',
  });
  // QEMU itself runs under its seccomp filter (mode 2) without a way to gain privileges.
  const status = await lab.exec(device, ['cat', `/proc/${unit.MainPID}/status`]);
  expect(status.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
  expect(status.stdout).toMatch(/^Seccomp:\s+2$/m);
  // Inside the app's sandbox, as its account: its own folder is writable, the rest is not.
  const inside = (script: string) =>
    lab.exec(device, [
      'nsenter',
      '-t',
      unit.MainPID ?? '',
      '-m',
      'runuser',
      '-u',
      'hearth',
      '--',
      'sh',
      '-c',
      script,
    ]);
  expect(
    (
      await inside(
        'touch /var/lib/hearth/apps/counter/probe && rm /var/lib/hearth/apps/counter/probe',
      )
    ).code,
  ).toBe(0);
  const outside = await inside('touch /var/lib/hearth/probe');
  expect(outside.code).not.toBe(0);
  expect(outside.stderr).toContain('Read-only file system');
  expect((await inside('ls /home/hearth')).code).not.toBe(0);
}

/** Stop and start from the Counter card: the boot counter on its disk grows. */
async function provesCounterKeepsData(page: Page, card: Locator) {
  await expect(card).toContainText('Running', { timeout: 180_000 });
  await card.getByRole('button', { name: 'Console of Counter' }).click();
  const console = page.getByRole('log', { name: 'Console of Counter' });
  await expect(console).toContainText('boot 1');
  await card.getByRole('button', { name: 'Stop Counter', exact: true }).click();
  await expect(card).toContainText('Stopped', { timeout: 60_000 });
  await card.getByRole('button', { name: 'Start Counter', exact: true }).click();
  await expect(card).toContainText('Running', { timeout: 60_000 });
  // The boot counter lives on the app's disk: it grew, so the data was kept.
  await expect(console).toContainText('boot 2', { timeout: 30_000 });
}

test('the hearth account may run one root command, and a planted link stops "prepare again" before root follows it', async ({
  page,
  lab,
}) => {
  test.setTimeout(8 * 60_000);
  const pi = await lab.device('pi');
  // By its address: found over mDNS is first-device.spec.ts's concern.
  await prepareByAddress(page, lab, 'pi', 'Hall Pi');

  await test.step('sudo -l lists exactly one command: the agent, which refuses smuggled units', async () => {
    await provesOneRootCommand(lab, 'pi');
    // The old advertise helper is gone; the agent is root's, in root's folder.
    const stat = await lab.exec('pi', [
      'stat',
      '-c',
      '%n %F %U:%G %a',
      '/usr/local/lib/hearth',
      agent,
    ]);
    expect(stat.stdout.trim().split('\n')).toEqual([
      '/usr/local/lib/hearth directory root:root 755',
      `${agent} regular file root:root 755`,
    ]);
    expect((await lab.exec('pi', ['test', '-e', '/usr/local/lib/hearth/advertise'])).code).not.toBe(
      0,
    );
  });

  // Every path outside hearth's own trees that hearth owns, and root's folders Hearth made.
  const ownership = async () => {
    const r = await lab.exec('pi', [
      'sh',
      '-c',
      "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /home/hearth -o -path /var/lib/hearth \\) -prune -o -user hearth -print | sort; stat -c '%n %U:%G %a' /usr/local/lib/hearth /usr/local/lib/hearth/agent /etc/sudoers.d/hearth /etc/hearth",
    ]);
    return r.stdout;
  };

  await test.step('an attacker with the hearth key swaps ~/.ssh for a link to the agent’s folder; preparing again is refused', async () => {
    const before = await ownership();
    expect(before).toContain('/usr/local/lib/hearth root:root 755');
    const plant = await lab.exec('pi', [
      'sudo',
      '-u',
      'hearth',
      'sh',
      '-c',
      'cd && rm -rf .ssh && ln -s /usr/local/lib/hearth .ssh',
    ]);
    expect(plant.code).toBe(0);

    // The Devices view's own way back into preparing, at the address it was last reached at.
    await page
      .getByRole('article', { name: 'Hall Pi' })
      .getByRole('button', { name: 'Prepare Hall Pi again' })
      .click();
    await page.getByRole('button', { name: 'Yes, this is my device' }).click({ timeout: 30_000 });
    await page.getByRole('textbox', { name: 'User name' }).fill(pi.user);
    await page.getByLabel('Password', { exact: true }).fill(pi.password);
    await page.getByRole('button', { name: 'Prepare this device' }).click();
    const failed = page
      .getByRole('list', { name: /^Steps of / })
      .getByRole('listitem')
      .filter({ hasText: 'Failed' });
    await expect(failed).toContainText('Create the Hearth account', { timeout: 120_000 });
    await expect(failed).toContainText(
      '/home/hearth/.ssh should be a folder, but it is a link to somewhere else',
    );
    // Nothing outside hearth's trees changed owner or mode; the link is still just a link.
    expect(await ownership()).toBe(before);
    const link = await lab.exec('pi', ['stat', '-c', '%F %U', '/home/hearth/.ssh']);
    expect(link.stdout.trim()).toBe('symbolic link hearth');
  });

  await test.step('once the owner removes the link, preparing again works', async () => {
    await lab.exec('pi', ['rm', '-f', '/home/hearth/.ssh']);
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('textbox', { name: 'User name' }).fill(pi.user);
    await page.getByLabel('Password', { exact: true }).fill(pi.password);
    await page.getByRole('button', { name: 'Prepare this device' }).click();
    await expect(page.getByRole('heading', { name: 'Name your device' })).toBeVisible({
      timeout: 120_000,
    });
    const keys = await lab.exec('pi', [
      'stat',
      '-c',
      '%F %U:%G %a',
      '/home/hearth/.ssh',
      '/home/hearth/.ssh/authorized_keys',
    ]);
    expect(keys.stdout.trim().split('\n')).toEqual([
      'directory hearth:hearth 700',
      'regular file hearth:hearth 600',
    ]);
  });
});

test('an app unit runs sandboxed: Counter keeps its data across stop and start', async ({
  page,
  lab,
}) => {
  test.setTimeout(8 * 60_000);
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await removeAppFromDevice(lab, 'pi', 'counter');
  await prepareByAddress(page, lab, 'pi', 'Study Pi');
  const card = await installFromCatalog(page, 'Counter');
  await expect(card).toContainText('Running', { timeout: 180_000 });
  await provesCounterSandboxed(lab, 'pi');
  await provesCounterKeepsData(page, card);
});

test('a Debian 11 device (sudo 1.9.5) is prepared and runs Counter through the agent', async ({
  page,
  lab,
}) => {
  test.setTimeout(10 * 60_000);
  const release = await lab.exec('bullseye', [
    'sh',
    '-c',
    'cat /etc/debian_version; sudo -V | head -n 1',
  ]);
  expect(release.stdout).toMatch(/^11\./);
  expect(release.stdout).toContain('Sudo version 1.9.5');
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await prepareByAddress(page, lab, 'bullseye', 'Old Pi');
  await provesOneRootCommand(lab, 'bullseye');
  // What the owner sees: the card says Running, and stop and start from it keep the data
  // (the status command falls back where systemd 247 has no --timestamp).
  const card = await installFromCatalog(page, 'Counter');
  await expect(card).toContainText('Running', { timeout: 180_000 });
  await provesCounterSandboxed(lab, 'bullseye');
  await provesCounterKeepsData(page, card);
  // Hearth itself enabled and started it through the agent: sudo's log names the calls.
  const journal = await lab.exec('bullseye', [
    'journalctl',
    '--no-pager',
    '-o',
    'cat',
    '_COMM=sudo',
  ]);
  expect(journal.stdout).toContain(`USER=root ; COMMAND=${agent} enable counter`);
});
