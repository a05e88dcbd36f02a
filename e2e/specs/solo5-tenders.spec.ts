// Solo5's tenders on a real lab device. The lab's devices have none (solo5-hvt and solo5-spt
// are packaged neither in Debian nor on npm, LAB.md), so the first rows prove what an owner
// sees there: only builds the device can run are offered, and an app or a file built only for
// a tender says it cannot run there and why. The network a tender app gets needs no tender:
// the root agent's net-up and net-down run for real on the Pi, with a QEMU microVM on the tap
// standing in for the unikernel (tap-standin.ts). The last rows run a real tender, and skip with
// their reason unless one is at /usr/bin/solo5-spt (or solo5-hvt) on the lab's Pi and a Solo5
// test image for it is named in HEARTH_SOLO5_SPT_IMAGE (or HEARTH_SOLO5_HVT_IMAGE), such as
// Solo5's own tests/test_blk/test_blk.spt, which prints SUCCESS once it used its disk.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { appFiles } from '../../electron/services/apps/app-files';
import type { AppSpec } from '../../electron/services/apps/app-spec';
import { solo5Image } from '../../electron/services/apps/image-test-images';
import { agentCommand } from '../../electron/services/device/agent-protocol';
import { appNetEnv, appPaths, solo5Network } from '../../electron/services/device/layout';
import type { LaunchSpec } from '../../electron/services/runtimes/launch-spec';
import { launcherFor } from '../../electron/services/runtimes/launcher';
import type { Runtime } from '../../shared/runtimes';
import { readSolo5Manifest } from '../../electron/services/runtimes/solo5-manifest';
import type { Lab } from '../lab/fixture';
import { putFile } from '../lab/lab';
import { standinPage, startTapStandin, stopTapStandin } from '../lab/tap-standin';
import { expect } from '../support/browser-mode';
import { test } from '../support/catalog-test';
import { attachAppsReportOnFailure } from '../support/device-report';
import { removeAppFromDevice } from '../support/device-apps';
import { preparePi } from '../support/wizard';

test.afterEach(({ lab }, testInfo) => attachAppsReportOnFailure(lab, testInfo));

const catalogArgs = (catalog: { url: string; trustedKey: string }) => [
  '--catalog',
  catalog.url,
  '--trust-catalog-key',
  catalog.trustedKey,
];

/** A synthetic Solo5 spt image (an ELF with Solo5's notes) that needs one disk, `storage`. */
function sptFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hearth-spt-')), 'resolver.spt');
  writeFileSync(file, solo5Image('spt', [{ name: 'storage', type: 'block' }]));
  return file;
}

async function openApps(page: Page, lab: Lab, deviceName: string): Promise<void> {
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await preparePi(page, lab, deviceName);
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Apps' })
    .click();
}

test.describe('a device without a Solo5 tender', () => {
  test.use({ serveArgs: async ({ catalog }, use) => use(catalogArgs(catalog)) });

  test('is offered only builds it can run: an app built only for tenders says it cannot run there', async ({
    page,
    lab,
  }) => {
    test.setTimeout(6 * 60_000);
    // An earlier spec of this worker may have left Counter on the Pi; its card would then say
    // it is installed and offer no Install.
    await removeAppFromDevice(lab, 'pi', 'counter');
    await openApps(page, lab, 'Tenderless Pi');
    const available = page.getByRole('list', { name: 'Available apps' });

    const resolver = available.getByRole('article', { name: 'Tender resolver', exact: true });
    await expect(resolver.getByRole('button', { name: 'Install Tender resolver' })).toBeDisabled();
    await expect(resolver).toContainText(
      "Tender resolver runs only under Solo5's tenders, and none of your devices has one: it needs a PC with KVM and Solo5's solo5-hvt tender or a PC with Solo5's solo5-spt tender.",
    );

    // The QEMU build of Counter is what this device runs, and the card says so.
    const counter = available.getByRole('article', { name: 'Counter', exact: true });
    await expect(counter.getByRole('button', { name: 'Install Counter' })).toBeEnabled();
    await expect(counter).toContainText('on Tenderless Pi');
    await counter.getByRole('button', { name: 'Show details of Counter' }).click();
    await expect(counter).toContainText('Runs on a PC with KVM or QEMU.');
  });
});

test.describe('a Solo5 spt file on a device without the tender', () => {
  // Playwright reads a fixture's dependencies from its first parameter's pattern.
  // eslint-disable-next-line no-empty-pattern
  test.use({ serveArgs: async ({}, use) => use(['--choose-file', sptFile()]) });

  test('says what it is and that none of the devices can run it', async ({ page, lab }) => {
    test.setTimeout(6 * 60_000);
    await openApps(page, lab, 'Tenderless Pi');
    await page.getByRole('button', { name: 'Install from a file' }).click();
    const form = page.getByRole('region', { name: 'Install resolver.spt' });
    await expect(form).toContainText(
      'A Solo5 unikernel for the solo5-spt tender (a sandboxed process) that needs a block device called storage.',
    );
    await expect(form.getByRole('alert')).toHaveText(
      "None of your devices can run it: it needs a PC with Solo5's solo5-spt tender.",
    );
    await expect(form.getByRole('button', { name: /^Install / })).toHaveCount(0);
  });
});

test.describe("a Solo5 app's network on the Pi, made by the root agent", () => {
  const appId = 'tapnet';
  const host = 8097;
  const paths = appPaths(appId);
  /** What an install of an spt image with a network called service writes (app-installer.ts). */
  const spec: AppSpec = {
    appId,
    name: 'Tap net',
    version: '1.0.0',
    target: 'spt-x86_64',
    sha256: '0'.repeat(64),
    disk: 'virtio',
    memoryMiB: 32,
    volumes: [],
    ports: [{ name: 'http', guest: 80, host, protocol: 'tcp' }],
    bootArgs: '',
    health: { kind: 'tcp', port: host },
    accel: 'tcg',
    solo5: readSolo5Manifest(solo5Image('spt', [{ name: 'service', type: 'net' }])),
    installedAt: new Date().toISOString(),
  };
  const agent = (verb: 'net-up' | 'net-down') =>
    agentCommand(verb, appId)
      .replace(/^sudo -n /, '')
      .split(' ');
  const cleanUp = async (lab: Lab) => {
    await stopTapStandin('pi');
    await lab.exec('pi', agent('net-down'));
  };

  test('net-up gives the app its tap on hearth0 and its published port; net-down takes both away', async ({
    page,
    lab,
  }) => {
    test.setTimeout(8 * 60_000);
    await removeAppFromDevice(lab, 'pi', appId);
    await page.getByRole('button', { name: 'Explore Hearth' }).click();
    await preparePi(page, lab, 'Tap Pi');
    try {
      // The app's files as an install writes them, through the same function, as the hearth account.
      const device = JSON.parse(
        (await lab.exec('pi', ['cat', '/etc/hearth/device.json'])).stdout,
      ) as {
        id: string;
      };
      const launcher = {
        files: (runtime: Runtime, input: LaunchSpec) => launcherFor(runtime, input).files,
      };
      for (const file of appFiles(launcher, device, spec))
        await putFile('pi', `${paths.dir}/${file.name}`, file.content, file.mode);
      await lab.exec('pi', ['chown', '-R', 'hearth:hearth', paths.dir]);

      // As the unit runs it before the tender: ExecStartPre=+agent net-up (root).
      const up = await lab.exec('pi', agent('net-up'));
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      const env = Object.fromEntries(
        (await lab.exec('pi', ['cat', appNetEnv(appId)])).stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      const tap = env.tap0 ?? '';
      const ipv4 = env.ipv4 ?? '';
      const guest = ipv4.replace(/\/\d+$/, '');
      expect(tap).toMatch(/^hth\d+n0$/);
      expect(ipv4).toMatch(new RegExp(`^${solo5Network.subnet.replaceAll('.', '\\.')}\\.\\d+/24$`));

      // The tap is on the Hearth bridge, owned by the account the tender runs as.
      const link = await lab.exec('pi', ['ip', '-o', 'link', 'show', 'dev', tap]);
      expect(link.stdout).toContain(`master ${solo5Network.bridge}`);
      const uid = (await lab.exec('pi', ['id', '-u', 'hearth'])).stdout.trim();
      expect((await lab.exec('pi', ['cat', `/sys/class/net/${tap}/owner`])).stdout.trim()).toBe(
        uid,
      );
      const bridge = await lab.exec('pi', [
        'ip',
        '-br',
        'addr',
        'show',
        'dev',
        solo5Network.bridge,
      ]);
      expect(bridge.stdout).toContain(`${solo5Network.gateway}/${solo5Network.prefix}`);
      const rules = (await lab.exec('pi', ['nft', 'list', 'ruleset'])).stdout;
      expect(rules).toContain(`tcp dport ${host} dnat to ${guest}:80`);

      // The run script hands the tender that tap and address (a recorder in solo5-spt's place).
      await putFile(
        'pi',
        '/run/hearth-e2e-bin/solo5-spt',
        '#!/bin/sh\necho "tender: $*"\n',
        '0755',
      );
      const ran = await lab.exec('pi', [
        'runuser',
        '-u',
        'hearth',
        '--',
        'env',
        'PATH=/run/hearth-e2e-bin:/usr/bin:/bin',
        paths.run,
      ]);
      expect(ran.code).toBe(0);
      const consoleLog = (await lab.exec('pi', ['cat', paths.consoleLog])).stdout;
      const mac = /--net-mac:service=(\S+)/.exec(consoleLog)?.[1] ?? '';
      expect(consoleLog).toContain(`--net:service=${tap} `);
      expect(consoleLog).toContain(`--ipv4=${ipv4} --ipv4-gateway=${solo5Network.gateway}`);

      // Something on the tap's other side at the app's address, as the unikernel would be; the
      // laptop reaches it at the device's own address and the published port.
      await startTapStandin('pi', { tap, ipv4, gateway: env.gateway ?? '', mac });
      const pi = await lab.device('pi');
      const visit = await lab.laptop([
        'curl',
        '-sS',
        '--max-time',
        '10',
        `http://${pi.address}:${host}${standinPage}`,
      ]);
      expect(visit.stderr).toBe('');
      expect(visit.stdout.trim()).toBe(`the unikernel at ${ipv4}`);

      // The tender ended (the stand-in stopped), then ExecStopPost=+agent net-down, twice.
      await stopTapStandin('pi');
      for (const round of [1, 2]) {
        const down = await lab.exec('pi', agent('net-down'));
        expect(down.code, `net-down, round ${round}`).toBe(0);
        expect((await lab.exec('pi', ['ip', 'link', 'show', 'dev', tap])).code).not.toBe(0);
        const after = (await lab.exec('pi', ['nft', 'list', 'ruleset'])).stdout;
        expect(after).not.toContain(`dport ${host}`);
        expect(after).not.toContain(guest);
        expect((await lab.exec('pi', ['test', '-e', appNetEnv(appId)])).code).not.toBe(0);
      }
      const refused = await lab.laptop([
        'curl',
        '-sS',
        '--max-time',
        '5',
        `http://${pi.address}:${host}${standinPage}`,
      ]);
      expect(refused.code).not.toBe(0);
    } finally {
      await cleanUp(lab);
      await removeAppFromDevice(lab, 'pi', appId);
    }
  });
});

for (const tender of ['spt', 'hvt'] as const) {
  const image = process.env[`HEARTH_SOLO5_${tender.toUpperCase()}_IMAGE`];
  test.describe(`a real solo5-${tender} on the lab's Pi`, () => {
    // Playwright reads a fixture's dependencies from its first parameter's pattern.
    // eslint-disable-next-line no-empty-pattern
    test.use({ serveArgs: async ({}, use) => use(image ? ['--choose-file', image] : []) });

    test(`runs a Solo5 ${tender} image from a file under hearth-app@ with its disk and console`, async ({
      page,
      lab,
    }) => {
      test.setTimeout(8 * 60_000);
      const onDevice = await lab.exec('pi', ['test', '-x', `/usr/bin/solo5-${tender}`]);
      test.skip(
        onDevice.code !== 0,
        `no Solo5 tender at /usr/bin/solo5-${tender} on the lab's Pi (Solo5 is packaged neither in Debian nor on npm)`,
      );
      test.skip(
        !image,
        `HEARTH_SOLO5_${tender.toUpperCase()}_IMAGE names no Solo5 ${tender} test image (e.g. Solo5's test_blk.${tender})`,
      );
      const kvm = await lab.exec('pi', ['test', '-c', '/dev/kvm']);
      test.skip(tender === 'hvt' && kvm.code !== 0, "the lab's Pi has no /dev/kvm for solo5-hvt");

      await removeAppFromDevice(lab, 'pi', 'blk-test');
      await openApps(page, lab, 'Tender Pi');
      const name = image?.split('/').pop() ?? '';
      await page.getByRole('button', { name: 'Install from a file' }).click();
      const form = page.getByRole('region', { name: `Install ${name}` });
      await expect(form).toContainText(`A Solo5 unikernel for the solo5-${tender} tender`);
      await form.getByRole('textbox', { name: 'App name' }).fill('Blk test');
      await form.getByRole('textbox', { name: 'Ready line' }).fill('SUCCESS');
      await form.getByRole('button', { name: 'Install Blk test' }).click();

      const installed = page
        .getByRole('list', { name: 'Installed apps' })
        .getByRole('article', { name: 'Blk test', exact: true });
      await expect(installed).toBeVisible({ timeout: 180_000 });
      await installed.getByRole('button', { name: 'Console of Blk test' }).click();
      await expect(page.getByRole('log', { name: 'Console of Blk test' })).toContainText(
        'SUCCESS',
        { timeout: 60_000 },
      );
      // The unit ran the tender itself, with the volume the form made as its block device.
      const run = await lab.exec('pi', ['cat', '/var/lib/hearth/apps/blk-test/run']);
      expect(run.stdout).toMatch(new RegExp(`^exec solo5-${tender} --mem=\\d+ `, 'm'));
      expect(run.stdout).toContain(
        '--block:storage=/var/lib/hearth/apps/blk-test/data/storage.img',
      );
      const unit = await lab.exec('pi', [
        'systemctl',
        'show',
        '-p',
        'ExecMainPath',
        'hearth-app@blk-test.service',
      ]);
      expect(unit.stdout).toContain('/var/lib/hearth/apps/blk-test/run');
      await removeAppFromDevice(lab, 'pi', 'blk-test');
    });
  });
}
