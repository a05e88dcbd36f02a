// A stand-in for a networked Solo5 unikernel, for the lab that has no Solo5 tender: the web app
// microVM (web-app.ts) run by QEMU as the hearth account on the tap the root agent made, as a
// tender attaches to it, with the address the agent gave the app. Its own init (appended to the
// web app's initramfs; a later cpio archive adds files to the earlier one) takes that address
// from the kernel command line, where an unknown `name=value` becomes an environment variable of
// init, and serves busybox httpd on port 80 with a page saying which address answered.
import { mkdtemp, rm, writeFile, readFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, waitFor } from './command';
import { exec, putFile } from './lab';
import { buildWebApp, webAppArgv } from './web-app';
import { installWebApp, webAppDir } from './web-app-on-device';

const unit = 'hearth-tap-standin';
const serialLog = `/var/log/${unit}.serial`;
const initrd = `${webAppDir}/tap-standin-initrd.gz`;
/** The page the stand-in serves: who answered, so a test sees the forward reached it. */
export const standinPage = '/where.txt';

const init = `#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko" || echo "insmod $m failed"; done
ip link set lo up
ip link set eth0 up || { echo "FAILED: no network interface"; poweroff -f; }
ip addr add "$hearth_ipv4" dev eth0 || echo "FAILED: no address $hearth_ipv4"
ip route add default via "$hearth_gateway" || echo "FAILED: no route via $hearth_gateway"
echo "the unikernel at $hearth_ipv4" > /www${standinPage}
httpd -p 80 -h /www
echo READY
while :; do sleep 3600; done
`;

async function standinArchive(): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-tap-standin-'));
  try {
    await writeFile(join(dir, 'tapinit'), init);
    await chmod(join(dir, 'tapinit'), 0o755);
    await run([
      'sh',
      '-c',
      `cd '${dir}' && echo tapinit | cpio -o -H newc --quiet | gzip -9 > a.gz`,
    ]);
    return await readFile(join(dir, 'a.gz'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Boots the stand-in on `tap` (as the hearth account, under emulation) with the app's address,
 * gateway and MAC, and waits until it serves. Stop it with stopTapStandin.
 */
export async function startTapStandin(
  device: string,
  opts: { tap: string; ipv4: string; gateway: string; mac: string },
): Promise<void> {
  await installWebApp(device);
  const image = await buildWebApp();
  await putFile(device, `${webAppDir}/tap-standin.gz`, await standinArchive());
  const join = await exec(device, [
    'sh',
    '-c',
    `cat ${webAppDir}/initrd.gz ${webAppDir}/tap-standin.gz > ${initrd} && systemctl reset-failed ${unit} 2>/dev/null; true`,
  ]);
  if (join.code !== 0) throw new Error(`preparing ${unit}: ${join.stderr.trim()}`);
  const r = await exec(device, [
    'systemd-run',
    `--unit=${unit}`,
    '--uid=hearth',
    `--property=StandardOutput=truncate:${serialLog}`,
    '--property=StandardError=journal',
    ...webAppArgv({
      accel: 'tcg',
      kernel: `${webAppDir}/vmlinuz`,
      initrd,
      append: `${image.append} rdinit=/tapinit hearth_ipv4=${opts.ipv4} hearth_gateway=${opts.gateway}`,
      net: { tap: opts.tap, mac: opts.mac },
    }),
  ]);
  if (r.code !== 0) throw new Error(`systemd-run ${unit}: ${r.stderr.trim()}`);
  await waitFor(
    `READY from the unikernel's stand-in on ${opts.tap}`,
    async () => {
      const log = await exec(device, ['cat', serialLog]);
      if (/FAILED|Kernel panic/.test(log.stdout))
        throw new Error(`the stand-in failed:\n${log.stdout}`);
      const state = await exec(device, ['systemctl', 'is-failed', unit]);
      if (state.stdout.trim() === 'failed') {
        const journal = await exec(device, ['journalctl', '-u', unit, '--no-pager', '-n', '20']);
        throw new Error(`the stand-in's QEMU ended:\n${journal.stdout}`);
      }
      return /^READY\r?$/m.test(log.stdout) ? true : undefined;
    },
    120_000,
    500,
  );
}

export async function stopTapStandin(device: string): Promise<void> {
  await exec(device, ['sh', '-c', `systemctl stop ${unit}; systemctl reset-failed ${unit}; true`]);
}
