// "Keep a copy on the Kitchen Pi": the Pi backs Counter up to another Hearth device on its own
// timer, with Hearth's services stopped (the laptop closed), and the app is restored from that
// copy on the Pi. The account the Pi uses on the other device gets SFTP in its own folder only.
// Then the Pi's SD card "dies" (its app folder wiped): the copy is listed through the Kitchen
// device in the Backups view and restored onto the Kitchen device, with the count it had.
//
// The devices are prepared and Counter installed through the UI (as an owner does); the peer
// backup itself is driven through its use case (services/backups/peer-backup.ts) on the laptop
// side, over the connections Hearth's services would make (e2e/support/peer-backup-driver.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab/fixture';
import { expect } from '../support/browser-mode';
import { test } from '../support/catalog-test';
import { attachAppsReportOnFailure } from '../support/device-report';
import { installFromCatalog, prepareByAddress, preparePi } from '../support/wizard';
import { removeAppFromDevice } from '../support/device-apps';
import { nav, setUpBackups } from '../support/backups-setup';

const documents = mkdtempSync(join(tmpdir(), 'hearth-e2e-documents-'));
test.afterAll(() => rmSync(documents, { recursive: true, force: true }));

test.use({
  labPersonas: ['pi', 'hearth'],
  serveArgs: async ({ catalog }, use) =>
    use([
      '--catalog',
      catalog.url,
      '--trust-catalog-key',
      catalog.trustedKey,
      '--documents',
      documents,
    ]),
});

test.afterEach(({ lab }, testInfo) => attachAppsReportOnFailure(lab, testInfo));

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const driver = fileURLToPath(new URL('../support/peer-backup-driver.ts', import.meta.url));

interface Driven<T> {
  ok: boolean;
  value: T;
  code?: string;
  message?: string;
}

async function drive<T>(lab: Lab, userData: string, args: string[]): Promise<T> {
  const r = await lab.laptop([process.execPath, tsxCli, driver, userData, ...args], {
    timeoutMs: 5 * 60_000,
  });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let answer: Driven<T>;
  try {
    answer = JSON.parse(line) as Driven<T>;
  } catch {
    throw new Error(`the driver said nothing useful (${r.code}): ${r.stdout} ${r.stderr}`);
  }
  if (!answer.ok)
    throw new Error(`${args[0]} failed: ${answer.code} ${answer.message}\n${r.stderr}`);
  return answer.value;
}

const sh = async (lab: Lab, device: string, script: string) => {
  const r = await lab.exec(device, ['sh', '-c', script]);
  return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() };
};

/** The highest boot the counter printed since its launcher last started it. */
async function lastBoot(lab: Lab, device = 'pi'): Promise<number> {
  const r = await sh(
    lab,
    device,
    `log=/var/lib/hearth/apps/counter/console.log; n=$(grep -n '^--- hearth: starting' $log | tail -n 1 | cut -d: -f1); tail -n +"\${n:-1}" $log | grep -o 'boot [0-9]*' | tail -n 1`,
  );
  return Number(/boot (\d+)/.exec(r.out)?.[1] ?? 0);
}

const idOf = async (lab: Lab, device: string) =>
  /"id": *"([0-9a-f-]{36})"/.exec(
    (await sh(lab, device, 'cat /etc/hearth/device.json')).out,
  )?.[1] ?? '';

test('the Pi backs Counter up to the other Hearth device on its own timer while Hearth is closed, and Counter is restored from that copy, on the Pi and, once the Pi is dead, onto the other device', async ({
  page,
  lab,
  hearth,
}) => {
  test.setTimeout(25 * 60_000);

  // A warm lab boots in about two seconds: wait for both sshds before the wizard probes them.
  for (const name of ['pi', 'hearth'])
    await expect
      .poll(async () => (await lab.ssh(name, 'true', { timeoutMs: 5_000 })).ok, { timeout: 60_000 })
      .toBe(true);
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await removeAppFromDevice(lab, 'pi', 'counter');
  await removeAppFromDevice(lab, 'hearth', 'counter');
  await preparePi(page, lab, 'Study Pi');
  const counter = await installFromCatalog(page, 'Counter');
  await expect(counter).toContainText('Running', { timeout: 180_000 });
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Devices' })
    .click();
  await prepareByAddress(page, lab, 'hearth', 'Kitchen');

  const piId = await idOf(lab, 'pi');
  const kitchenId = await idOf(lab, 'hearth');
  const account = `hb-${piId.replaceAll('-', '').slice(0, 12)}`;
  const repo = `/srv/hearth-backups/${account}/repo`;
  // The backups on this computer first: their password (in the key vault, and in the kit) is
  // the one the copies on the other device use too.
  const folder = join(documents, 'Hearth Backups');
  const { password } = await setUpBackups(page, folder);

  await test.step('Hearth sets the backup up: a restricted account on the Kitchen device, a key and a timer on the Pi', async () => {
    const configured = await drive<{ account: string; repository: string; everyMinutes: number }>(
      lab,
      hearth.userDataDir,
      ['configure', 'Study Pi', 'Kitchen', 'counter', password, String(1 / 60)],
    );
    expect(configured).toMatchObject({ account, repository: 'created', everyMinutes: 1 });
    expect((await sh(lab, 'pi', 'systemctl is-enabled hearth-backup@counter.timer')).out).toBe(
      'enabled',
    );
    // Running it again changes nothing that was right.
    expect(
      await drive(lab, hearth.userDataDir, [
        'configure',
        'Study Pi',
        'Kitchen',
        'counter',
        password,
        String(1 / 60),
      ]),
    ).toMatchObject({ repository: 'exists' });
  });

  const bootAtBackup = await lastBoot(lab);
  expect(bootAtBackup).toBeGreaterThanOrEqual(1);

  let snapshotId = '';
  await test.step("with Hearth's services stopped, the Pi's own timer takes a backup onto the Kitchen device", async () => {
    await hearth.stop();
    await expect
      .poll(
        async () =>
          (await sh(lab, 'pi', 'cat /var/lib/hearth/apps/counter/state/peer-backup.json')).out,
        {
          timeout: 4 * 60_000,
          intervals: [5_000],
        },
      )
      .toContain('"ok":true');
    const status = JSON.parse(
      (await sh(lab, 'pi', 'cat /var/lib/hearth/apps/counter/state/peer-backup.json')).out,
    ) as { ok: boolean; sentence: string; snapshotId: string; bytes: number; targetId: string };
    expect(status).toMatchObject({ ok: true, sentence: 'Backed up.', targetId: kitchenId });
    expect(status.bytes).toBeGreaterThan(0);
    snapshotId = status.snapshotId;
    // The repository on the Kitchen device holds it, as this device's and this app's.
    const listed = await sh(
      lab,
      'hearth',
      `RESTIC_PASSWORD='${password}' restic --no-cache -r ${repo} snapshots --json`,
    );
    expect(listed.code).toBe(0);
    const snapshots = JSON.parse(listed.out) as {
      id: string;
      hostname: string;
      paths: string[];
      tags: string[];
    }[];
    expect(snapshots.find((s) => s.id === snapshotId)).toMatchObject({
      hostname: piId,
      paths: ['/counter.tar'],
      tags: expect.arrayContaining(['hearth', 'app=counter']),
    });
    // The snapshot is the laptop's format: volumes, image, spec, manifest last.
    const members = await sh(
      lab,
      'hearth',
      `RESTIC_PASSWORD='${password}' restic --no-cache -r ${repo} dump ${snapshotId} /counter.tar | tar -t`,
    );
    const names = members.out.split('\n');
    expect(names[0]).toBe('volumes/data.img');
    expect(names.at(-1)).toBe('hearth-backup.json');
    expect(names).toContain('spec.json');
    // Nothing left behind on the Pi, and Counter runs on (resumed after its copy).
    expect((await sh(lab, 'pi', 'ls /var/lib/hearth/apps/counter')).out).not.toContain(
      'backup-work',
    );
    expect((await sh(lab, 'pi', 'systemctl is-active hearth-app@counter')).out).toBe('active');
    expect((await sh(lab, 'pi', '/var/lib/hearth/apps/counter/qmp query-status')).out).toContain(
      '"running"',
    );
  });

  await test.step('the account on the Kitchen device gets no shell and cannot leave its folder', async () => {
    const ssh = `runuser -u hearth -- ssh -F /dev/null -i /var/lib/hearth/backup/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/var/lib/hearth/backup/targets/${kitchenId}/known_hosts -o HostKeyAlias=hearth-${kitchenId}`;
    const address = (await lab.device('hearth')).address;
    const shell = await sh(lab, 'pi', `${ssh} -l ${account} ${address} id </dev/null`);
    expect(shell.out).not.toContain('uid=');
    const tty = await sh(lab, 'pi', `${ssh} -tt -l ${account} ${address} </dev/null`);
    expect(tty.out).not.toMatch(/\$ |# |uid=/);
    const sftp = `runuser -u hearth -- sftp -F /dev/null -i /var/lib/hearth/backup/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/var/lib/hearth/backup/targets/${kitchenId}/known_hosts -o HostKeyAlias=hearth-${kitchenId} -b -`;
    const passwd = await sh(
      lab,
      'pi',
      `printf 'get /etc/passwd /tmp/leak\\n' | ${sftp} ${account}@${address}; echo "status $?"; test -e /tmp/leak && echo LEAKED`,
    );
    expect(passwd.out).not.toContain('status 0');
    expect(passwd.out).not.toContain('LEAKED');
    const climb = await sh(
      lab,
      'pi',
      `printf 'cd ../../..\\nls -1 /\\nget ../../../etc/passwd /tmp/leak\\n' | ${sftp} ${account}@${address}; test -e /tmp/leak && echo LEAKED`,
    );
    expect(climb.out).not.toContain('LEAKED');
    expect(climb.out).not.toMatch(/^(etc|usr|home)$/m);
    // Its own folder it may use: restic wrote there.
    const own = await sh(lab, 'pi', `printf 'ls /repo\\n' | ${sftp} ${account}@${address}`);
    expect(own.out).toContain('snapshots');
  });

  await test.step('Hearth comes back; the timer is turned off; Counter restarts a few times', async () => {
    await hearth.start();
    await page.goto(hearth.url);
    await drive(lab, hearth.userDataDir, ['disable', 'Study Pi', 'counter']);
    expect((await sh(lab, 'pi', 'systemctl is-enabled hearth-backup@counter.timer')).out).not.toBe(
      'enabled',
    );
    // The timer runs every minute here, so on a slow machine it may have run again before it
    // was turned off; retention keeps one snapshot a day, so that run's snapshot replaced the
    // first. Counter was not restarted in between: either holds the same boot count.
    await expect
      .poll(
        async () => (await sh(lab, 'pi', 'systemctl is-active hearth-backup@counter.service')).out,
        {
          timeout: 5 * 60_000,
          intervals: [2_000],
        },
      )
      .not.toMatch(/^(active|activating|deactivating)$/);
    const last = JSON.parse(
      (await sh(lab, 'pi', 'cat /var/lib/hearth/apps/counter/state/peer-backup.json')).out,
    ) as { ok: boolean; snapshotId: string };
    expect(last.ok).toBe(true);
    snapshotId = last.snapshotId;
    for (let i = 1; i <= 3; i += 1) {
      await sh(lab, 'pi', 'systemctl restart hearth-app@counter');
      await expect.poll(() => lastBoot(lab), { timeout: 60_000 }).toBe(bootAtBackup + i);
    }
    const points = await drive<{ id: string }[]>(lab, hearth.userDataDir, [
      'points',
      'Study Pi',
      'counter',
    ]);
    expect(points.map((p) => p.id)).toContain(snapshotId);
    expect(await drive(lab, hearth.userDataDir, ['status', 'Study Pi', 'counter'])).toMatchObject({
      ok: true,
      snapshotId,
    });
  });

  await test.step('restored from the copy on the Kitchen device, Counter boots with the count it had then', async () => {
    const manifest = await drive<{ appId: string; volumes: { name: string }[] }>(
      lab,
      hearth.userDataDir,
      ['restore', 'Study Pi', 'counter', snapshotId],
    );
    expect(manifest).toMatchObject({ appId: 'counter', volumes: [{ name: 'data' }] });
    await expect.poll(() => lastBoot(lab), { timeout: 60_000 }).toBe(bootAtBackup + 1);
    expect(
      (await sh(lab, 'pi', 'ls -A /var/lib/hearth/apps/counter/data')).out.split('\n'),
    ).toEqual(['.hearth-origin', 'data.img']);
    expect((await sh(lab, 'pi', 'test -e /var/lib/hearth/apps/counter/restore')).code).not.toBe(0);
    // The owner sees it too.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: 'Apps' })
      .click();
    const card = page
      .getByRole('list', { name: 'Installed apps' })
      .getByRole('article', { name: 'Counter' });
    await expect(card).toContainText('Running', { timeout: 60_000 });
    await card.getByRole('button', { name: 'Console of Counter' }).click();
    await expect(page.getByRole('log', { name: 'Console of Counter' })).toContainText(
      `hearth-counter v1 boot ${bootAtBackup + 1} `,
      { timeout: 30_000 },
    );
  });

  await test.step("with the Pi's SD card dead, Counter's copy is listed through the Kitchen device and restored onto it with the count it had", async () => {
    await removeAppFromDevice(lab, 'pi', 'counter');
    await expect
      .poll(
        async () => {
          await page.goto(hearth.url);
          await nav(page, 'Backups');
          const others = page.getByRole('list', { name: 'Backups of apps no device has now' });
          return (await others.count()) > 0 ? ((await others.textContent()) ?? '') : '';
        },
        { timeout: 90_000, intervals: [5_000] },
      )
      .toMatch(/Counter[\s\S]*from Study Pi[\s\S]*kept on Kitchen/);
    const group = page
      .getByRole('list', { name: 'Backups of apps no device has now' })
      .getByRole('listitem')
      .filter({ hasText: 'Counter' });
    await group.getByRole('button', { name: 'Restore Counter onto a device…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore Counter' });
    await expect(dialog.getByText(/kept on Kitchen/).first()).toBeVisible({ timeout: 60_000 });
    await dialog
      .locator('label', { hasText: 'kept on Kitchen' })
      .first()
      .getByRole('radio')
      .check();
    await dialog.getByRole('combobox', { name: 'Restore onto' }).selectOption({ label: 'Kitchen' });
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(dialog).toContainText('Counter is back as it was', { timeout: 8 * 60_000 });
    // Installed on the Kitchen device from the copy alone, with the data it had on the Pi.
    await expect.poll(() => lastBoot(lab, 'hearth'), { timeout: 60_000 }).toBe(bootAtBackup + 1);
    expect((await sh(lab, 'hearth', 'systemctl is-active hearth-app@counter')).out).toBe('active');
  });
});
