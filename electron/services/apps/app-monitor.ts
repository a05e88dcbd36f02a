// Keeps an eye on the apps of every device: one status command per device per round returns
// the state of all its apps, and changes are published as apps:changed. A device that does not
// answer is shown offline and retried with backoff, coming back by itself.
import type { AppId, DeviceId } from '../../../shared/ids';
import type { DeviceRecord, InstalledApp } from '../../../shared/model';
import type { Clock, Sleep } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { DeviceStore } from '../devices/device-store';
import { parseAppSpec } from './app-spec';
import type { AppSpec } from './app-spec';
import { interpret } from './app-state';
import { ConsoleFollower } from './console-follower';
import type { Probe } from './health-probe';
import { appEndpoint } from './health-probe';
import type { LinkHosts } from './link-host';

export interface AppMonitorDeps {
  devices: Pick<DeviceStore, 'list' | 'get'>;
  client: (deviceId: DeviceId) => Promise<DeviceClient>;
  /** Ends a device's connection (it was forgotten). */
  disconnect: (deviceId: DeviceId) => void;
  clock: Clock;
  sleep: Sleep;
  probe: Probe;
  linkHosts: Pick<LinkHosts, 'hostFor'>;
  publish: (apps: InstalledApp[]) => void;
  publishConsole: (event: { deviceId: string; appId: string; lines: string[] }) => void;
  refreshMs?: number;
}

export interface KnownApp {
  device: DeviceRecord;
  spec: AppSpec;
  app: InstalledApp;
}

const key = (deviceId: DeviceId, appId: AppId) => `${deviceId}/${appId}`;
const MAX_BACKOFF_MS = 30_000;

export class AppMonitor {
  readonly #deps: AppMonitorDeps;
  readonly #known = new Map<string, KnownApp>();
  readonly #offline = new Map<DeviceId, { until: number; delay: number }>();
  readonly #installing = new Set<string>();
  /** Bumped when a device is forgotten: a refresh that began before must not bring it back. */
  readonly #epochs = new Map<DeviceId, number>();
  readonly consoles: ConsoleFollower;
  #running: AbortController | null = null;
  #lastPublished = '';

  constructor(deps: AppMonitorDeps) {
    this.#deps = deps;
    this.consoles = new ConsoleFollower({ clock: deps.clock, publish: deps.publishConsole });
  }

  start(): void {
    if (this.#running) return;
    const running = new AbortController();
    this.#running = running;
    void this.#loop(running.signal);
  }

  stop(): void {
    this.#running?.abort();
    this.#running = null;
  }

  list(): InstalledApp[] {
    return [...this.#known.values()].map((k) => structuredClone(k.app));
  }

  /** What Hearth last saw of this app, or null when it sees no such app there. */
  get(deviceId: DeviceId, appId: AppId): KnownApp | null {
    return this.#known.get(key(deviceId, appId)) ?? null;
  }

  /** App ids Hearth sees on the device right now. */
  appIdsOn(deviceId: DeviceId): AppId[] {
    return [...this.#known.values()]
      .filter((k) => k.device.id === deviceId)
      .map((k) => k.spec.appId);
  }

  /** The specs of the apps Hearth sees on the device right now. */
  specsOn(deviceId: DeviceId): AppSpec[] {
    return [...this.#known.values()]
      .filter((k) => k.device.id === deviceId)
      .map((k) => structuredClone(k.spec));
  }

  /** While an install runs, its card says Installing rather than Starting or Crashed. */
  setInstalling(deviceId: DeviceId, appId: AppId, busy: boolean): void {
    if (busy) this.#installing.add(key(deviceId, appId));
    else this.#installing.delete(key(deviceId, appId));
  }

  /** An app the owner removed: gone from the list now, not at the next refresh. */
  dropApp(deviceId: DeviceId, appId: AppId): void {
    this.#known.delete(key(deviceId, appId));
    this.consoles.stop(deviceId, appId);
    this.#publishIfChanged();
  }

  /** Stops watching a device this computer no longer looks after; its apps keep running there. */
  forgetDevice(deviceId: DeviceId): void {
    for (const [k, known] of this.#known) if (known.device.id === deviceId) this.#known.delete(k);
    this.consoles.forgetDevice(deviceId);
    this.#offline.delete(deviceId);
    this.#epochs.set(deviceId, (this.#epochs.get(deviceId) ?? 0) + 1);
    this.#deps.disconnect(deviceId);
    this.#publishIfChanged();
  }

  async refreshDevice(device: DeviceRecord): Promise<void> {
    const now = this.#deps.clock.now();
    const backoff = this.#offline.get(device.id);
    if (backoff && backoff.until > now) return;
    const epoch = this.#epochs.get(device.id) ?? 0;
    const forgotten = () => (this.#epochs.get(device.id) ?? 0) !== epoch;
    let client: DeviceClient;
    let statuses;
    try {
      client = await this.#deps.client(device.id);
      statuses = await client.appStatuses();
      if (forgotten()) return;
      this.#offline.delete(device.id);
    } catch {
      if (forgotten()) return;
      const delay = Math.min((backoff?.delay ?? 1_000) * 2, MAX_BACKOFF_MS);
      this.#offline.set(device.id, { until: this.#deps.clock.now() + delay, delay });
      for (const known of this.#known.values())
        if (known.device.id === device.id)
          known.app = {
            ...known.app,
            state: 'offline',
            message: `${device.name} is not answering. Hearth keeps trying; the app may still be running.`,
          };
      this.#publishIfChanged();
      return;
    }
    const seen = new Set<string>();
    for (const status of statuses) {
      const spec = parseAppSpec(status.specText);
      // A folder whose spec names another app is not that app (a copied folder, a hostile one).
      if (!spec || spec.appId !== status.appId) continue;
      const k = key(device.id, spec.appId);
      seen.add(k);
      let probeHealthy: boolean | null = null;
      // An app that sleeps when idle is not probed from here: each probe would be a visit that
      // keeps it awake while Hearth is open.
      if (spec.health.kind !== 'console' && status.activeState === 'active' && !spec.sleep)
        probeHealthy = await this.#deps
          .probe(client, device, spec, status.guestAddress)
          .catch(() => false);
      if (forgotten()) return;
      const { state, message } = interpret(status, spec.name, probeHealthy);
      const host = this.#deps.linkHosts.hostFor(device);
      this.#known.set(k, {
        device,
        spec,
        app: {
          deviceId: device.id,
          deviceName: device.name,
          appId: spec.appId,
          name: spec.name,
          version: spec.version,
          state: this.#installing.has(k) && state !== 'running' ? 'installing' : state,
          restarts: status.restarts,
          runningSince: state === 'running' ? status.startedAt : null,
          memoryBytes: status.memoryBytes,
          memoryMiB: spec.memoryMiB,
          // Only an app that sleeps says so: the others read as they always did.
          ...(spec.sleep
            ? { sleepIdleMinutes: Math.max(1, Math.round(spec.sleep.idleSeconds / 60)) }
            : {}),
          links: spec.ports
            .filter((p) => p.protocol === 'tcp' && p.service?.includes('http'))
            .flatMap((p) => {
              const where = appEndpoint(spec, p, host, status.guestAddress);
              return where
                ? [{ name: p.name, url: `http://${where.host}:${where.port}${p.path ?? '/'}` }]
                : [];
            }),
          message,
        },
      });
    }
    for (const [k, known] of this.#known)
      if (known.device.id === device.id && !seen.has(k)) this.#known.delete(k);
    await this.consoles.poll(client);
    this.#publishIfChanged();
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const devices = await this.#deps.devices.list().catch(() => []);
      await Promise.all(devices.map((d) => this.refreshDevice(d).catch(() => undefined)));
      const ids = new Set(devices.map((d) => d.id));
      for (const [k, known] of this.#known) if (!ids.has(known.device.id)) this.#known.delete(k);
      this.#publishIfChanged();
      await this.#deps.sleep(this.#deps.refreshMs ?? 2_000, signal);
    }
  }

  #publishIfChanged(): void {
    const apps = this.list().sort(
      (a, b) => a.deviceName.localeCompare(b.deviceName) || a.name.localeCompare(b.name),
    );
    const text = JSON.stringify(apps);
    if (text === this.#lastPublished) return;
    this.#lastPublished = text;
    this.#deps.publish(apps);
  }
}
