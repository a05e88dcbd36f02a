// What the owner does to an installed app: start, stop, restart, give it more memory, open its
// console, remove it (its data too only when they typed its name).
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import type { DeviceClient } from '../device/device-client';
import { appFiles } from './app-files';
import { canSleep } from './app-sleep';
import type { AppMonitor, KnownApp } from './app-monitor';
import type { LauncherPort } from './app-ports';
import type { AppSpec } from './app-spec';
import { consoleLines } from './console-text';

export interface AppControllerDeps {
  monitor: Pick<AppMonitor, 'get' | 'refreshDevice' | 'dropApp' | 'consoles'>;
  client: (deviceId: DeviceId) => Promise<DeviceClient>;
  launcher: LauncherPort;
}

export class AppController {
  readonly #deps: AppControllerDeps;

  constructor(deps: AppControllerDeps) {
    this.#deps = deps;
  }

  async control(deviceId: DeviceId, appId: AppId, verb: 'start' | 'stop' | 'restart') {
    const { client, known } = await this.#app(deviceId, appId);
    await client.control(appId, verb);
    await this.#deps.monitor.refreshDevice(known.device);
    return null;
  }

  async remove(
    deviceId: DeviceId,
    appId: AppId,
    confirmDeleteData?: string,
  ): Promise<{ dataDeleted: boolean }> {
    const { client, known } = await this.#app(deviceId, appId);
    const deleteData =
      confirmDeleteData !== undefined && confirmDeleteData.trim() === known.spec.name;
    await client.removeApp(appId, deleteData);
    this.#deps.monitor.dropApp(deviceId, appId);
    return { dataDeleted: deleteData };
  }

  async setMemory(deviceId: DeviceId, appId: AppId, memoryMiB: number): Promise<null> {
    const { client, known } = await this.#app(deviceId, appId);
    const spec = { ...known.spec, memoryMiB };
    await client.writeAppFiles(appId, appFiles(this.#deps.launcher, known.device, spec));
    await client.control(appId, 'restart');
    await this.#deps.monitor.refreshDevice(known.device);
    return null;
  }

  /**
   * "Sleep when idle" on (after idleMinutes without a visit) or off (null). The launcher is
   * written again first (asleep, the runtime listens on loopback), then the device's units.
   */
  async setSleep(deviceId: DeviceId, appId: AppId, idleMinutes: number | null): Promise<null> {
    const { client, known } = await this.#app(deviceId, appId);
    const { sleep: _was, ...always } = known.spec;
    const spec: AppSpec =
      idleMinutes === null ? always : { ...always, sleep: { idleSeconds: idleMinutes * 60 } };
    if (spec.sleep) canSleep(spec);
    await client.writeAppFiles(appId, appFiles(this.#deps.launcher, known.device, spec));
    await client.setSleep(appId, spec.sleep !== undefined);
    await this.#deps.monitor.refreshDevice(known.device);
    return null;
  }

  /** The recent console, and new lines as events for the next minutes. */
  async console(deviceId: DeviceId, appId: AppId): Promise<{ lines: string[] }> {
    const { client } = await this.#app(deviceId, appId);
    const tail = await client.consoleTail(appId);
    this.#deps.monitor.consoles.follow(deviceId, appId, tail.size);
    return { lines: consoleLines(tail.text).slice(-500) };
  }

  async #app(deviceId: DeviceId, appId: AppId): Promise<{ client: DeviceClient; known: KnownApp }> {
    const known = this.#deps.monitor.get(deviceId, appId);
    if (!known) throw new HearthError('APP_NOT_ON_DEVICE');
    return { client: await this.#deps.client(deviceId), known };
  }
}
