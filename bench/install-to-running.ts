// Run on the lab's laptop side by bench/run.ts. With Hearth's real services (the ones
// electron/app-services.ts composes for the window, here without the UI, discovery or the
// mDNS listener), it prepares a factory-fresh device and then, each round:
//  - Hearth: from the call the Install button makes (apps:install → AppsService.install) until
//    the apps service publishes the app as `running` (apps:changed), with the laptop's
//    download cache emptied first, so every round downloads, uploads and starts afresh;
//  - by hand, the baseline: one SSH sign-in (the hearth account, Hearth's key), one SFTP copy
//    of the same kernel, and one command that boots it with the same QEMU command Hearth's
//    launcher runs until READY on its serial console. That is the least anyone can do to get
//    the kernel running on the device, so the ratio is what Hearth's checks, supervision
//    and launcher cost on top of it.
// Between rounds the app is removed with its data, so each install is a real one; an install
// that fails is reported, cleaned up and done again (its time is not counted). The last
// round leaves it installed (stopped) for the start-to-READY row. Where the device has a
// /dev/kvm that the app could not use (Hearth tried KVM, then fell back to TCG), the rounds
// are run a second time with the device recorded as having no /dev/kvm, which shows the
// install without that attempt. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AppSpec } from '../electron/services/apps/app-spec';
import { deviceRuntimes } from '../shared/runtimes';
import { agentCommand } from '../electron/services/device/agent-protocol';
import { appPaths } from '../electron/services/device/layout';
import { handBootScript, launchSpecFor, parseMicros } from './counter-boot';
import { deviceOptions, laptopHearth, sayVerbose } from './laptop-hearth';

const { values } = parseArgs({
  options: {
    ...deviceOptions,
    /** The same kernel file the catalog serves, for the by-hand copy. */
    kernel: { type: 'string' },
    rounds: { type: 'string', default: '5' },
  },
});
const appId = values.app;
const rounds = Number(values.rounds);
const verbose = process.env.HEARTH_BENCH_VERBOSE === '1';
const say = sayVerbose('install');

const hearth = await laptopHearth(values, say);
const { services, device, deviceDoes } = hearth;

async function hearthInstall(): Promise<number> {
  const { ms, started, task } = await hearth.install(appId, { emptyCache: true });
  if (verbose) {
    const times = hearth.stepDone.get(task.id) ?? [];
    const steps = task.steps
      .map((s, i) => {
        const took = (times[i] ?? NaN) - (times[i - 1] ?? started);
        return `${s.label} ${took.toFixed(0)}`;
      })
      .join(', ');
    say(`hearth ${ms.toFixed(0)} ms (${steps})`);
  }
  return ms;
}

const installedSpec = () => hearth.installedSpec(appId);

async function byHand(spec: AppSpec): Promise<number> {
  const kernel = `/tmp/hearth-bench-hand-${appId}.elf`;
  const scratch = launchSpecFor(
    spec,
    device.capabilities.arch === 'aarch64' ? 'aarch64' : 'x86_64',
    { appDir: `/tmp/hearth-bench-hand-${appId}`, kernelPath: kernel },
  );
  const pattern = spec.health.kind === 'console' ? spec.health.pattern : 'READY';
  const started = performance.now();
  const session = await hearth.asHearth();
  try {
    await session.writeFile(kernel, readFileSync(values.kernel ?? ''), 0o644);
    const r = await session.exec(
      `sh -c '${handBootScript(scratch, spec.volumes, { until: { pattern }, timeoutS: 120 }).replaceAll("'", `'\\''`)}'`,
      { timeoutMs: 180_000 },
    );
    if (r.code !== 0) throw new Error(`the by-hand boot failed: ${r.stderr.trim()}`);
    const ms = performance.now() - started;
    say(
      `by hand ${ms.toFixed(0)} ms (of which QEMU start to READY ${parseMicros(r.stdout).toFixed(0)} ms)`,
    );
    await session.exec(`rm -f ${kernel}`);
    return ms;
  } finally {
    session.close();
  }
}

interface Series {
  hearth: number[];
  baseline: number[];
}
/** What the last install deployed (its accelerator, for the rows' note). */
const last: { spec: AppSpec | null } = { spec: null };
/** Installs that failed (and were cleaned up and done again), in the owner's words. */
const failures: string[] = [];
async function series(keepInstalled: boolean): Promise<Series> {
  const result: Series = { hearth: [], baseline: [] };
  for (let i = 0; i < rounds; i++) {
    result.hearth.push(await hearthInstallOrRedo());
    const spec = await installedSpec();
    last.spec = spec;
    // Nothing of the app may run while the baseline boots (a TCG guest takes a core).
    if (keepInstalled && i === rounds - 1)
      await services.appControl.control(device.id, appId, 'stop');
    else await services.appControl.remove(device.id, appId, spec.name);
    result.baseline.push(await byHand(spec));
  }
  return result;
}

/**
 * A failed install is not a number for this row, and should not end the whole bench: it is
 * reported (run.ts prints it under the row), the app removed by hand, and the round done again.
 */
async function hearthInstallOrRedo(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await hearthInstall();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`  [install] an install failed: ${message}`);
      failures.push(message);
      if (attempt === 3) throw error;
      await deviceDoes(
        `${agentCommand('stop', appId)}; ${agentCommand('disable', appId)}; ${agentCommand('reset-failed', appId)}; rm -rf ${appPaths(appId).dir}`,
      );
      await services.appMonitor.refreshDevice(device);
    }
  }
}

// As provisioned. Where /dev/kvm exists but the app cannot use it (in the lab, QEMU as the
// hearth account gets "Permission denied" from it), that includes the installer's KVM
// attempt (systemd restarting QEMU until its start limit) before it falls back to emulation.
const asProvisioned = await series(true);
let withoutKvm: Series | null = null;
if (device.hypervisor === 'kvm' && last.spec?.accel === 'tcg') {
  // The same device as Hearth records one without /dev/kvm (hypervisor "qemu"): the path of
  // such devices, and the install cost without the KVM attempt.
  say('again, recorded as a device without /dev/kvm');
  await services.appControl.remove(device.id, appId, last.spec.name);
  await services.devices.save({ ...device, hypervisor: 'qemu' });
  withoutKvm = await series(true);
}

console.log(
  JSON.stringify({
    asProvisioned,
    withoutKvm,
    hypervisor: device.hypervisor,
    // What Hearth recorded the device as offering, for the boot row's runtimes.
    runtimes: deviceRuntimes(device),
    capabilities: device.capabilities,
    accel: last.spec?.accel ?? null,
    failures,
  }),
);
hearth.close();
process.exit(0);
