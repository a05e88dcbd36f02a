// Shared by the bench scripts that run on the lab's laptop side (install-to-running.ts,
// backup-throughput.ts): Hearth's real services, the ones electron/app-services.ts composes
// for the window, here without the UI, discovery or the mDNS listener; the events the window
// would get, kept where the script can wait on them; a factory-fresh device prepared through
// them; installs from the signed test catalog; and SSH as the hearth account with Hearth's key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceRecord, InstalledApp, TaskSnapshot } from '../shared/model';
import { createAppServices } from '../electron/app-services';
import type { AppServicesOptions } from '../electron/app-services';
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

/** The command-line options run.ts passes for the device and the test catalog. */
export const deviceOptions = {
  address: { type: 'string' },
  fingerprint: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  catalog: { type: 'string' },
  'trust-catalog-key': { type: 'string' },
  app: { type: 'string', default: 'counter' },
} as const;

export interface DeviceArgs {
  address?: string;
  fingerprint?: string;
  user?: string;
  password?: string;
  catalog?: string;
  'trust-catalog-key'?: string;
}

/** A line on stderr under HEARTH_BENCH_VERBOSE=1, as `  [tag] line`. */
export function sayVerbose(tag: string): (line: string) => void {
  const verbose = process.env.HEARTH_BENCH_VERBOSE === '1';
  return (line) => {
    if (verbose) console.error(`  [${tag}] ${line}`);
  };
}

export type LaptopHearth = Awaited<ReturnType<typeof laptopHearth>>;

/** Starts the services in a fresh user-data folder and prepares the device through them. */
export async function laptopHearth(
  values: DeviceArgs,
  say: (line: string) => void,
  more: Partial<AppServicesOptions> = {},
) {
  const address = values.address ?? '';
  const fingerprint = values.fingerprint ?? '';
  const trust = values['trust-catalog-key'] ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-'));
  const vault = new FileKeyVault(join(dir, 'vault'));

  let apps: InstalledApp[] | null = null;
  const tasks = new Map<string, TaskSnapshot>();
  /** When each step of a task finished, for the verbose breakdowns. */
  const stepDone = new Map<string, number[]>();
  let changed: () => void = () => undefined;
  const emit: Emit = (channel, payload) => {
    if (channel === 'apps:changed') apps = payload as InstalledApp[];
    if (channel === 'tasks:updated') {
      const task = payload as TaskSnapshot;
      tasks.set(task.id, task);
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
    ...more,
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
  const device: DeviceRecord = found;
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
  const appOnDevice = (appId: string) =>
    apps?.find((a) => a.deviceId === device.id && a.appId === appId);

  /**
   * From the call the Install button makes (apps:install → AppsService.install) until the
   * apps service publishes the app as `running`, and the task's end; the download cache is
   * emptied first when asked, so the install downloads afresh.
   */
  async function install(
    appId: string,
    o: { emptyCache?: boolean } = {},
  ): Promise<{ ms: number; started: number; task: TaskSnapshot }> {
    // Not part of any measurement: systemd's start limit (5 starts in 300 s, the unit template)
    // counts every install's starts, and a bench installs more often than any owner would.
    // (A unit that was never started, or was removed, is "not loaded": nothing to reset.)
    const reset = await housekeeping.exec(agentCommand('reset-failed', appId));
    if (reset.code !== 0 && !/not loaded/.test(reset.stderr))
      throw new Error(`resetting systemd's start limit on the device: ${reset.stderr.trim()}`);
    if (o.emptyCache) rmSync(join(dir, 'cache', 'artifacts'), { recursive: true, force: true });
    const started = performance.now();
    const taskId = await services.appInstaller.install(device.id, appId);
    await until(
      `${appId} running`,
      () => {
        taskDone(taskId); // throws if the install failed
        return appOnDevice(appId)?.state === 'running' ? true : undefined;
      },
      5 * 60_000,
    );
    const ms = performance.now() - started;
    const task = await until('the install task to end', () => taskDone(taskId), 60_000);
    return { ms, started, task };
  }

  async function installedSpec(appId: string): Promise<AppSpec> {
    const spec = parseAppSpec(await deviceDoes(`cat ${appPaths(appId).spec}`));
    if (!spec) throw new Error(`no readable spec.json for ${appId} on the device`);
    return spec;
  }

  return {
    services,
    device,
    dir,
    privateKey,
    until,
    taskDone,
    stepDone,
    appOnDevice,
    asHearth,
    housekeeping,
    deviceDoes,
    install,
    installedSpec,
    close(): void {
      housekeeping.close();
      services.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
