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
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { InstalledApp, TaskSnapshot } from '../shared/model';
import { createAppServices } from '../electron/app-services';
import type { Emit } from '../electron/ipc/events';
import { parseAppSpec } from '../electron/services/apps/app-spec';
import type { AppSpec } from '../electron/services/apps/app-spec';
import { FileKeyVault } from '../electron/services/keys/file-key-vault';
import { ensureInstallKey } from '../electron/services/keys/install-key';
import { silentLogger } from '../electron/services/logger';
import { agentCommand } from '../electron/services/device/agent-protocol';
import { HEARTH_USER, appPaths } from '../electron/services/device/layout';
import { connectSsh } from '../electron/services/ssh/ssh-connect';
import type { SshSession } from '../electron/services/ssh/ssh-session';
import { handBootScript, launchSpecFor, parseMicros } from './counter-boot';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    fingerprint: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    catalog: { type: 'string' },
    'trust-catalog-key': { type: 'string' },
    /** The same kernel file the catalog serves, for the by-hand copy. */
    kernel: { type: 'string' },
    app: { type: 'string', default: 'counter' },
    rounds: { type: 'string', default: '5' },
  },
});
const address = values.address ?? '';
const fingerprint = values.fingerprint ?? '';
const appId = values.app;
const rounds = Number(values.rounds);
const trust = values['trust-catalog-key'] ?? '';
const verbose = process.env.HEARTH_BENCH_VERBOSE === '1';
const say = (line: string) => {
  if (verbose) console.error(`  [install] ${line}`);
};

const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-install-'));
const vault = new FileKeyVault(join(dir, 'vault'));

// The events the window would get, kept where this script can wait on them.
let apps: InstalledApp[] | null = null;
const tasks = new Map<string, TaskSnapshot>();
const stepDone = new Map<string, number[]>();
let changed: () => void = () => undefined;
const emit: Emit = (channel, payload) => {
  if (channel === 'apps:changed') apps = payload as InstalledApp[];
  if (channel === 'tasks:updated') {
    const task = payload as TaskSnapshot;
    tasks.set(task.id, task);
    // When each step of a task finished, for the verbose breakdown.
    const times = stepDone.get(task.id) ?? [];
    task.steps.forEach((step, i) => {
      if (step.state !== 'pending' && step.state !== 'running') times[i] ??= performance.now();
    });
    stepDone.set(task.id, times);
  }
  changed();
};
function until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      changed = () => undefined;
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    changed = () => {
      let value: T | undefined;
      try {
        value = check();
      } catch (error) {
        clearTimeout(timer);
        changed = () => undefined;
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (value === undefined) return;
      clearTimeout(timer);
      changed = () => undefined;
      resolve(value);
    };
    changed();
  });
}
function taskDone(id: string): TaskSnapshot | undefined {
  const task = tasks.get(id);
  if (!task || task.state === 'running') return undefined;
  if (task.state !== 'succeeded')
    throw new Error(`${task.title}: ${task.error?.message ?? task.state}`);
  return task;
}

const services = createAppServices({
  userDataDir: dir,
  emit,
  log: silentLogger,
  info: { name: 'Hearth', version: 'bench', shell: 'browser', platform: process.platform },
  keyVault: vault,
  resourcesDir: join(import.meta.dirname, '..', 'resources'),
  extraCatalogs: values.catalog ? [values.catalog] : [],
  // KEYID=BASE64, split at the first '=' (as browser mode's --trust-catalog-key).
  extraTrustedKeys: trust
    ? [
        {
          keyId: trust.slice(0, trust.indexOf('=')),
          publicKey: trust.slice(trust.indexOf('=') + 1),
        },
      ]
    : [],
  // "Check this computer" is not used here; keep its mDNS listener off the network anyway.
  listen: () => Promise.resolve([]),
});

const provisionTask = services.provisionDevice({
  address,
  port: 22,
  fingerprint,
  username: values.user ?? '',
  password: values.password ?? '',
});
await until('provisioning', () => taskDone(provisionTask), 5 * 60_000);
const found = (await services.devices.list()).find((d) => d.addresses.includes(address));
if (!found) throw new Error('provisioning saved no device');
const device = found;
say(`provisioned ${device.name} (${device.hypervisor})`);
// The apps service's monitoring runs while the owner looks at the Apps page, as in the app
// (discovery stays off: it plays no part in an install).
services.appMonitor.start();
// Its first refresh opens the device's SSH session, as it has long done when the owner clicks.
await until('the first status refresh', () => (apps ? true : undefined), 30_000);

const { privateKey } = await ensureInstallKey(vault);
const asHearth = (): Promise<SshSession> =>
  connectSsh({
    host: address,
    username: HEARTH_USER,
    auth: { privateKey },
    hostKey: { kind: 'pinned', fingerprint },
  });
const housekeeping = await asHearth();
async function deviceDoes(command: string): Promise<string> {
  const r = await housekeeping.exec(command, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${command} on the device: ${r.stderr.trim()}`);
  return r.stdout;
}
const counterApp = () => apps?.find((a) => a.deviceId === device.id && a.appId === appId);

async function hearthInstall(): Promise<number> {
  // Not part of the measurement: systemd's start limit (5 starts in 300 s, the unit template)
  // counts every install's starts, and this bench installs more often than any owner would.
  // (A unit that was never started, or was removed, is "not loaded": nothing to reset.)
  const reset = await housekeeping.exec(agentCommand('reset-failed', appId));
  if (reset.code !== 0 && !/not loaded/.test(reset.stderr))
    throw new Error(`resetting systemd's start limit on the device: ${reset.stderr.trim()}`);
  rmSync(join(dir, 'cache', 'artifacts'), { recursive: true, force: true });
  const started = performance.now();
  const taskId = await services.appInstaller.install(device.id, appId);
  await until(
    `${appId} running`,
    () => {
      taskDone(taskId); // throws if the install failed
      return counterApp()?.state === 'running' ? true : undefined;
    },
    5 * 60_000,
  );
  const ms = performance.now() - started;
  const task = await until('the install task to end', () => taskDone(taskId), 60_000);
  if (verbose) {
    const times = stepDone.get(taskId) ?? [];
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

async function installedSpec(): Promise<AppSpec> {
  const spec = parseAppSpec(await deviceDoes(`cat ${appPaths(appId).spec}`));
  if (!spec) throw new Error(`no readable spec.json for ${appId} on the device`);
  return spec;
}

async function byHand(spec: AppSpec): Promise<number> {
  const kernel = `/tmp/hearth-bench-hand-${appId}.elf`;
  const scratch = launchSpecFor(
    spec,
    device.capabilities.arch === 'aarch64' ? 'aarch64' : 'x86_64',
    { appDir: `/tmp/hearth-bench-hand-${appId}`, kernelPath: kernel },
  );
  const pattern = spec.health.kind === 'console' ? spec.health.pattern : 'READY';
  const started = performance.now();
  const session = await asHearth();
  try {
    await session.writeFile(kernel, readFileSync(values.kernel ?? ''), 0o644);
    const r = await session.exec(
      `sh -c '${handBootScript(scratch, spec.volumes, { pattern, timeoutS: 120 }).replaceAll("'", `'\\''`)}'`,
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
    accel: last.spec?.accel ?? null,
    failures,
  }),
);
housekeeping.close();
services.dispose();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
