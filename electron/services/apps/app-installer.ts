// Installing an app is a task: download and verify on the laptop, upload under a temporary
// name, verify again on the device, rename into images/<sha256> (so no partial image can
// ever be started), create the data volumes, write the launcher, start it under systemd
// and wait for its health probe. Every step checks first, so a retry resumes.
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import type { DeviceRecord } from '../../../shared/model';
import { readFile } from 'node:fs/promises';
import { deviceTargets, isSolo5Runtime, runtimeOf } from '../../../shared/runtimes';
import type { Target } from '../../../shared/runtimes';
import type { Clock } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { DeviceStore } from '../devices/device-store';
import { Checklist } from '../tasks/checklist';
import { readSolo5Manifest } from '../runtimes/solo5-manifest';
import type { TaskContext, TaskManager } from '../tasks/task-manager';
import { appFiles } from './app-files';
import type { AppCatalogPort, LauncherPort, ResolvedApp } from './app-ports';
import { refusePortClash } from './port-clash';
import type { AppSpec } from './app-spec';
import { parseAppSpec } from './app-spec';
import { sleepsWhenIdle } from './app-sleep';
import { DEFAULT_IDLE_MINUTES } from '../device/sleep-units';
import type { HealthWaitDeps } from './health-wait';
import { waitHealthy } from './health-wait';

export const installSteps = [
  'Download and check the app',
  'Send it to the device',
  'Check it on the device',
  'Prepare its storage',
  'Set it up to run',
  'Start it',
  'Wait until it is ready',
] as const;

export interface AppInstallerDeps extends HealthWaitDeps {
  devices: Pick<DeviceStore, 'get'>;
  tasks: TaskManager;
  catalog: AppCatalogPort;
  launcher: LauncherPort;
  client: (deviceId: DeviceId) => Promise<DeviceClient>;
  clock: Clock;
  /** Tells the monitor an install of this app is under way (its card says Installing). */
  installing: (deviceId: DeviceId, appId: AppId, busy: boolean) => void;
  /** Reads the device's apps again (after the install, and if it fails). */
  refresh: (device: DeviceRecord) => Promise<void>;
  /** The apps Hearth last saw on the device, whose ports a new app must not take. */
  neighbours?: (deviceId: DeviceId) => AppSpec[];
}

/** How long a start may take to become ready: KVM fails fast when it fails at all. */
const KVM_READY_MS = 15_000;
const TCG_READY_MS = 90_000;

const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** The build this device runs, or APP_UNSUITABLE said at once (before any task starts). */
export function targetOf(device: DeviceRecord): Target {
  const target = deviceTargets(device)[0];
  if (!target)
    throw new HearthError(
      'APP_UNSUITABLE',
      `${device.name} has a processor Hearth cannot run apps on (${device.capabilities.rawArch}).`,
    );
  return target;
}

/** What the device keeps as spec.json for this build (AppSpec). */
function specFor(
  resolved: ResolvedApp,
  solo5: AppSpec['solo5'],
  accel: AppSpec['accel'],
  installedAt: string,
): AppSpec {
  return {
    appId: resolved.appId,
    name: resolved.name,
    version: resolved.version,
    target: resolved.target,
    sha256: resolved.artifact.sha256,
    ...(resolved.artifact.initrd ? { initrdSha256: resolved.artifact.initrd.sha256 } : {}),
    disk: resolved.artifact.disk,
    memoryMiB: resolved.resources.memoryMiB,
    volumes: resolved.resources.volumes,
    ports: resolved.resources.ports,
    bootArgs: resolved.resources.bootArgs,
    health: resolved.resources.health,
    accel,
    ...(solo5 ? { solo5 } : {}),
    installedAt,
  };
}

/**
 * The app's build for this device: the device's runtimes are asked best first (a Solo5 tender
 * before QEMU where the device has one), and the first the app has a build for wins. When none
 * has, the answer for the device's best runtime is what the owner reads.
 */
export async function resolveForDevice(
  catalog: AppCatalogPort,
  appId: AppId,
  device: DeviceRecord,
): Promise<ResolvedApp> {
  let first: unknown = null;
  for (const target of [targetOf(device), ...deviceTargets(device).slice(1)]) {
    try {
      return await catalog.resolve(appId, target);
    } catch (error) {
      const noBuild =
        error instanceof HearthError &&
        (error.code === 'NOT_FOUND' || error.code === 'APP_UNSUITABLE');
      if (!noBuild) throw error;
      first ??= error;
    }
  }
  throw first;
}

export class AppInstaller {
  readonly #deps: AppInstallerDeps;

  constructor(deps: AppInstallerDeps) {
    this.#deps = deps;
  }

  /**
   * Resolves the app first (so the task has its name, and "no build for this device" is said at
   * once). `catalog` is the catalog by default, or the port of an image the owner chose.
   */
  async install(
    deviceId: DeviceId,
    appId: AppId,
    catalog: AppCatalogPort = this.#deps.catalog,
  ): Promise<string> {
    const device = await this.#deps.devices.get(deviceId);
    const resolved = await resolveForDevice(catalog, appId, device);
    refusePortClash(
      { appId, name: resolved.name, ports: resolved.resources.ports },
      device.name,
      this.#deps.neighbours?.(deviceId) ?? [],
    );
    const handle = this.#deps.tasks.run(
      {
        kind: 'app-install',
        title: `Install ${resolved.name} on ${device.name}`,
        steps: [...installSteps],
      },
      async (ctx) => {
        this.#deps.installing(deviceId, appId, true);
        try {
          const spec = await this.#run(catalog, device, resolved, ctx);
          await this.#deps.refresh(device);
          return { value: undefined, summary: `${spec.name} is running on ${device.name}.` };
        } finally {
          this.#deps.installing(deviceId, appId, false);
          void this.#deps.refresh(device).catch(() => undefined);
        }
      },
    );
    return handle.id;
  }

  async #run(
    catalog: AppCatalogPort,
    device: DeviceRecord,
    resolved: ResolvedApp,
    ctx: TaskContext,
  ): Promise<AppSpec> {
    const deps = this.#deps;
    const list = new Checklist(ctx, installSteps);
    const signal = ctx.signal;
    const appId = resolved.appId;

    const local = await list.step(async () => {
      const kernel = await catalog.download(resolved.artifact, {
        signal,
        onProgress: (done, all) => list.within(done / Math.max(all, 1)),
      });
      const initrd = resolved.artifact.initrd
        ? await catalog.download(resolved.artifact.initrd, { signal, onProgress: () => undefined })
        : null;
      // A Solo5 image names the devices it needs in its manifest: read here, and the launcher
      // tried on the draft spec, so an image Hearth cannot wire is refused before any upload.
      const solo5 = isSolo5Runtime(runtimeOf(resolved.target))
        ? { devices: readSolo5Manifest(await readFile(kernel)).devices }
        : undefined;
      appFiles(deps.launcher, device, specFor(resolved, solo5, 'tcg', ''));
      return {
        value: { kernel, initrd, solo5 },
        note: `${resolved.name} ${resolved.version}, checked against the catalog.`,
      };
    });

    const client = await deps.client(device.id);
    const sent = await list.step(async () => {
      const origin = await client.origin(appId, { signal });
      if (origin !== null && origin !== resolved.origin)
        throw new HearthError(
          'APP_ID_TAKEN',
          origin === 'file'
            ? `${device.name} already keeps an app you installed from a file under the name "${appId}", with its data. Hearth did not touch it. Remove that app with its data first, or install this one on another device.`
            : `${device.name} already keeps the catalog's app "${appId}" and its data there. Hearth did not touch it: give this app another name.`,
        );
      await client.prepareAppFolder(appId, { signal });
      if (origin === null) await client.setOrigin(appId, resolved.origin, { signal });
      const sending = (done: number, all: number): void => {
        list.within(done / Math.max(all, 1));
        ctx.detail(`Sending ${resolved.name} to the device: ${mib(done)} of ${mib(all)}…`);
      };
      const kernel = await client.placeImage(appId, resolved.artifact.sha256, local.kernel, {
        signal,
        onProgress: sending,
      });
      const initrd =
        local.initrd && resolved.artifact.initrd
          ? await client.placeImage(appId, resolved.artifact.initrd.sha256, local.initrd, {
              signal,
              onProgress: sending,
            })
          : { placed: false, resumedFrom: 0 };
      const placed = kernel.placed || initrd.placed;
      const resumed = kernel.resumedFrom + initrd.resumedFrom;
      return {
        value: placed,
        state: placed ? 'done' : 'already-done',
        ...(resumed > 0
          ? { note: `Picked up where it stopped: ${mib(resumed)} were already there.` }
          : {}),
      };
    });

    await list.step(async () => {
      const hashes = [resolved.artifact.sha256, resolved.artifact.initrd?.sha256].filter(
        (h): h is string => typeof h === 'string',
      );
      if (!(await client.imagesIntact(appId, hashes, { signal })))
        throw new HearthError('DEVICE_GARBLED');
      return {
        value: undefined,
        state: sent ? 'done' : 'already-done',
        note: 'The copy on the device matches the catalog.',
      };
    });

    await list.step(async () => {
      const volumes = resolved.resources.volumes;
      const created = await client.ensureVolumes(appId, volumes, { signal });
      const note =
        volumes.length === 0
          ? 'It keeps no data.'
          : created
            ? 'Its storage is ready.'
            : 'Its data from before is kept.';
      return { value: undefined, state: created ? 'done' : 'already-done', note };
    });

    const spec = await list.step(async () => {
      const facts = await client.installFacts(appId, { signal });
      const accel =
        device.hypervisor === 'kvm' && facts.kvmUsable && !facts.specText.includes('"accel":"tcg"')
          ? 'kvm'
          : 'tcg';
      const installedAt = new Date(deps.clock.now()).toISOString();
      // An app reinstalled over itself keeps its setting (sleeping when idle, if it still can);
      // a new one sleeps when its catalog entry allows it.
      const before = parseAppSpec(facts.specText);
      const sleep = before
        ? before.sleep
        : resolved.resources.sleepWhenIdle
          ? { idleSeconds: DEFAULT_IDLE_MINUTES * 60 }
          : undefined;
      const fresh = specFor(resolved, local.solo5, accel, installedAt);
      const spec = sleep && sleepsWhenIdle({ ...fresh, sleep }) ? { ...fresh, sleep } : fresh;
      await this.#writeFiles(client, device, spec, signal);
      return { value: spec };
    });

    await list.step(async () => {
      // A sleeping app's sockets first: its start is then a wake through them, and the health
      // wait reaches it on its published port like any visitor.
      if (spec.sleep) await client.setSleep(appId, true, { signal });
      await client.enableAndRestart(appId, { signal });
      return { value: undefined, note: 'It will start again by itself when the device restarts.' };
    });

    return list.step(async () => {
      let current = spec;
      const wait = (s: AppSpec, ms: number) => waitHealthy(deps, client, device, s, ms, signal);
      let healthy = await wait(current, current.accel === 'kvm' ? KVM_READY_MS : TCG_READY_MS);
      if (!healthy && current.accel === 'kvm') {
        // /dev/kvm can exist and still not run guests (LAB.md): fall back to emulation.
        current = { ...current, accel: 'tcg' };
        await this.#writeFiles(client, device, current, signal);
        await client.enableAndRestart(appId, { signal });
        healthy = await wait(current, TCG_READY_MS);
        // Only an app that runs under emulation after failing under KVM says KVM is the trouble
        // (a wrong port fails both ways): remembered, so the next install skips the same try.
        if (healthy) await client.markKvmUnusable({ signal });
      }
      if (!healthy)
        throw new HearthError(
          'APP_NOT_READY',
          `${current.name} started but did not become ready. Open its console to see what it says.`,
        );
      // Woken for the health wait; its sockets are written again (the ports may have changed),
      // and it sleeps until the next visit.
      if (current.sleep) await client.setSleep(appId, true, { signal });
      return {
        value: current,
        note: current.sleep
          ? `${current.name} is ready and sleeps until the first visit.`
          : `${current.name} is running.`,
      };
    });
  }

  async #writeFiles(
    client: DeviceClient,
    device: DeviceRecord,
    spec: AppSpec,
    signal: AbortSignal,
  ): Promise<void> {
    await client.writeAppFiles(spec.appId, appFiles(this.#deps.launcher, device, spec), { signal });
    await client.switchCurrent(spec.appId, spec.sha256, { signal });
  }
}
