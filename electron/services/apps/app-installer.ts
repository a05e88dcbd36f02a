// Installing an app is a task: download and verify on the laptop, upload under a temporary
// name, verify again on the device, rename into images/<sha256> (so no partial image can
// ever be started), create the data volumes, write the launcher, start it under systemd
// and wait for its health probe. Every step checks first, so a retry resumes.
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import type { DeviceRecord } from '../../../shared/model';
import { deviceTargets } from '../../../shared/runtimes';
import type { Target } from '../../../shared/runtimes';
import type { Clock } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { DeviceStore } from '../devices/device-store';
import { Checklist } from '../tasks/checklist';
import type { TaskContext, TaskManager } from '../tasks/task-manager';
import { appFiles } from './app-files';
import type { AppCatalogPort, LauncherPort, ResolvedApp } from './app-ports';
import type { AppSpec } from './app-spec';
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
    const resolved = await catalog.resolve(appId, targetOf(device));
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
      return {
        value: { kernel, initrd },
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
      const spec: AppSpec = {
        appId,
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
        installedAt: new Date(deps.clock.now()).toISOString(),
      };
      await this.#writeFiles(client, device, spec, signal);
      return { value: spec };
    });

    await list.step(async () => {
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
      return { value: current, note: `${current.name} is running.` };
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
