import { readFile } from 'node:fs/promises';
import { waitFor } from './command';
import { probeAccel } from './counter-on-device';
import { exec, putFile } from './lab';
import { buildWebApp, webAppArgv } from './web-app';

/** Where the web app's kernel and initramfs live on a device. */
export const webAppDir = '/opt/hearth-lab/web-app';

export interface WebAppRun {
  unit: string;
  port: number;
  disk: string;
  serialLog: string;
  readyMs: number;
}

/** Copies the microVM (kernel + initrd) onto a device, building it first if needed. */
export async function installWebApp(device: string): Promise<void> {
  const image = await buildWebApp();
  await putFile(device, `${webAppDir}/vmlinuz`, await readFile(image.kernel));
  await putFile(device, `${webAppDir}/initrd.gz`, await readFile(image.initrd));
}

/**
 * Starts the web app on a device as a transient systemd service (the way Hearth supervises
 * apps), publishing `port` on the device's addresses, and waits for READY on its console.
 */
export async function startWebApp(
  device: string,
  opts: { port?: number; disk?: string; unit?: string; timeoutMs?: number } = {},
): Promise<WebAppRun> {
  const unit = opts.unit ?? 'hearth-web-app';
  const port = opts.port ?? 8080;
  const disk = opts.disk ?? '/var/lib/hearth-lab/web-app.img';
  const serialLog = `/var/log/${unit}.serial`;
  const image = await buildWebApp();
  const accel = await probeAccel(device);
  const argv = webAppArgv({
    accel,
    kernel: `${webAppDir}/vmlinuz`,
    initrd: `${webAppDir}/initrd.gz`,
    append: image.append,
    disk,
    net: { port },
  });
  const prep = await exec(device, [
    'sh',
    '-c',
    `mkdir -p "$(dirname '${disk}')" && { test -e '${disk}' || truncate -s 16M '${disk}'; } && systemctl reset-failed ${unit} 2>/dev/null; true`,
  ]);
  if (prep.code !== 0) throw new Error(`preparing ${unit} on ${device}: ${prep.stderr.trim()}`);
  const started = Date.now();
  const r = await exec(device, [
    'systemd-run',
    `--unit=${unit}`,
    `--property=StandardOutput=truncate:${serialLog}`,
    '--property=StandardError=journal',
    ...argv,
  ]);
  if (r.code !== 0) throw new Error(`systemd-run on ${device}: ${r.stderr.trim()}`);
  await waitFor(
    `READY from ${unit} on ${device}`,
    async () => {
      const log = await exec(device, ['cat', serialLog]);
      if (/FAILED|Kernel panic/.test(log.stdout))
        throw new Error(`${unit} failed to boot:\n${log.stdout}`);
      return /^READY\r?$/m.test(log.stdout) ? true : undefined;
    },
    opts.timeoutMs ?? 120_000,
    500,
  );
  return { unit, port, disk, serialLog, readyMs: Date.now() - started };
}

/** Stops it as systemd stops a service: SIGTERM, on which QEMU closes its disks cleanly. */
export async function stopWebApp(device: string, unit = 'hearth-web-app'): Promise<void> {
  await exec(device, ['systemctl', 'stop', unit]);
}
