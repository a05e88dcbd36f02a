// The start and boot rows (bench/run.ts): an installed (stopped) app started on one device,
// alternating Hearth's launcher with the command that launcher execs, run by hand as root in a
// scratch folder with a copy of the app's data disk and the accelerator spec.json records. Both
// are timed on the device by the same loop (counter-boot.ts), so the SSH and nsenter hops of
// the bench itself are in neither number.
//  - start: `systemctl start hearth-app@APP` to READY;
//  - boot: the owner's Start as Hearth sends it (the root agent's `start`, as the hearth
//    account) to the image's first console line, per runtime the device offers; the by-hand
//    QEMU command is also timed with qboot in place of SeaBIOS (LAB.md), by hand only.
import * as lab from '../e2e/lab/lab';
import { parseAppSpec } from '../electron/services/apps/app-spec';
import { appPaths } from '../electron/services/device/layout';
import type { DeviceCapabilities } from '../shared/model';
import type { DeviceHypervisor, Runtime } from '../shared/runtimes';
import type { ConsoleUntil } from './counter-boot';
import {
  assertSameCommand,
  handBootScript,
  launcherStartScript,
  launchSpecFor,
  parseMicros,
} from './counter-boot';

/** Debian's qemu-system-x86 ships it; QEMU's -bios takes it in place of SeaBIOS. */
export const qbootRom = '/usr/share/qemu/qboot.rom';

export interface StartSeries {
  launcher: number[];
  byHand: number[];
  /** The by-hand command with qboot as firmware (empty unless asked and the device has it). */
  byHandQboot: number[];
  accel: string;
}

/** Every round alternates the launcher and the command by hand (and qboot, when asked). */
export async function startOnDevice(
  device: string,
  appId: string,
  opts: {
    rounds: number;
    until: ConsoleUntil | 'health';
    via: 'systemctl' | 'agent';
    qboot?: boolean;
    say?: (line: string) => void;
  },
): Promise<StartSeries> {
  const appDir = appPaths(appId).dir;
  const read = async (path: string) => {
    const r = await lab.exec(device, ['cat', path]);
    if (r.code !== 0) throw new Error(`reading ${path} on ${device}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const spec = parseAppSpec(await read(`${appDir}/spec.json`));
  if (!spec) throw new Error(`no readable spec.json for ${appId} on ${device}`);
  // The installer takes the arch from the device's capabilities; the target records it.
  const arch = spec.target.endsWith('aarch64') ? 'aarch64' : 'x86_64';
  const installed = launchSpecFor(spec, arch);
  assertSameCommand(await read(`${appDir}/run`), installed);
  const scratch = launchSpecFor(spec, arch, { appDir: `/root/hearth-bench-hand-${appId}` });
  const until: ConsoleUntil =
    opts.until !== 'health'
      ? opts.until
      : { pattern: spec.health.kind === 'console' ? spec.health.pattern : 'READY' };
  const timeoutS = 120;
  const time = async (what: string, script: string): Promise<number> => {
    const r = await lab.exec(device, ['sh', '-c', script], { timeoutMs: (timeoutS + 60) * 1000 });
    if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr.trim()}`);
    return parseMicros(r.stdout);
  };
  const qboot =
    opts.qboot &&
    arch === 'x86_64' &&
    (await lab.exec(device, ['test', '-f', qbootRom])).code === 0;
  const hand = (bios?: string) =>
    handBootScript(scratch, spec.volumes, {
      until,
      timeoutS,
      copyVolumesFrom: `${appDir}/data`,
      ...(bios ? { bios } : {}),
    });
  const result: StartSeries = { launcher: [], byHand: [], byHandQboot: [], accel: spec.accel };
  for (let i = 0; i < opts.rounds; i++) {
    result.launcher.push(
      await time(
        `the ${opts.via} start`,
        launcherStartScript(installed, { until, timeoutS, via: opts.via }),
      ),
    );
    result.byHand.push(await time('the QEMU command by hand', hand()));
    if (qboot) result.byHandQboot.push(await time('the QEMU command with qboot', hand(qbootRom)));
    opts.say?.(
      `round ${i + 1} (${spec.accel}): launcher ${result.launcher.at(-1)!.toFixed(0)} ms, by hand ${result.byHand.at(-1)!.toFixed(0)} ms${qboot ? `, with qboot ${result.byHandQboot.at(-1)!.toFixed(0)} ms` : ''}`,
    );
  }
  return result;
}

/**
 * Why the boot row has no number for `runtime` on a device Hearth recorded, in one line, or
 * null when the device offers it and the row can measure it.
 */
export function bootSkipReason(
  runtime: Runtime,
  device: { hypervisor: DeviceHypervisor; capabilities: DeviceCapabilities },
  offered: readonly Runtime[],
  onlyQemu = "this row installs only Counter (a QEMU image) and times only QEMU's command by hand so far",
): string | null {
  const caps = device.capabilities;
  if (!offered.includes(runtime))
    switch (runtime) {
      case 'qemu':
        return device.hypervisor === 'xen'
          ? 'the device is a Xen host: Hearth runs its apps as Xen guests'
          : 'the device has no QEMU';
      case 'xen':
        return 'the device is not a Xen host';
      case 'hvt':
        return caps.solo5Hvt
          ? 'the device has solo5-hvt but no /dev/kvm for it'
          : 'the device has no solo5-hvt tender';
      case 'spt':
        return caps.solo5Spt
          ? 'the device has solo5-spt but its kernel has no seccomp filters'
          : 'the device has no solo5-spt tender';
    }
  if (runtime === 'qemu') return null;
  return `the device offers ${runtime}, but ${onlyQemu}`;
}
