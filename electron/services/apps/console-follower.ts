// An app's console, live: after the owner opens it, each refresh of its device reads what the
// console printed since last time and publishes it as lines, for the next ten minutes.
import type { AppId, DeviceId } from '../../../shared/ids';
import type { Clock } from '../clock';
import type { DeviceClient } from '../device/device-client';
import { consoleLines } from './console-text';

export interface ConsoleFollowerDeps {
  clock: Clock;
  publish: (event: { deviceId: string; appId: string; lines: string[] }) => void;
}

const FOLLOW_MS = 10 * 60_000;

interface Follow {
  deviceId: DeviceId;
  appId: AppId;
  until: number;
  offset: number;
}

export class ConsoleFollower {
  readonly #deps: ConsoleFollowerDeps;
  readonly #following = new Map<string, Follow>();

  constructor(deps: ConsoleFollowerDeps) {
    this.#deps = deps;
  }

  /** Follows the console from byte `offset` (where the first read stopped). */
  follow(deviceId: DeviceId, appId: AppId, offset: number): void {
    this.#following.set(`${deviceId}/${appId}`, {
      deviceId,
      appId,
      offset,
      until: this.#deps.clock.now() + FOLLOW_MS,
    });
  }

  stop(deviceId: DeviceId, appId: AppId): void {
    this.#following.delete(`${deviceId}/${appId}`);
  }

  forgetDevice(deviceId: DeviceId): void {
    for (const [k, follow] of this.#following)
      if (follow.deviceId === deviceId) this.#following.delete(k);
  }

  /** Reads and publishes what is new on this device's followed consoles. */
  async poll(client: DeviceClient): Promise<void> {
    for (const [k, follow] of this.#following) {
      if (follow.deviceId !== client.deviceId) continue;
      if (follow.until < this.#deps.clock.now()) {
        this.#following.delete(k);
        continue;
      }
      const chunk = await client.consoleSince(follow.appId, follow.offset).catch(() => null);
      if (!chunk) continue;
      // A shorter log was rotated: start again from its beginning.
      follow.offset =
        chunk.size < follow.offset
          ? 0
          : Math.min(chunk.size, follow.offset + Buffer.byteLength(chunk.text));
      const lines = consoleLines(chunk.text);
      if (lines.length)
        this.#deps.publish({ deviceId: follow.deviceId, appId: follow.appId, lines });
    }
  }
}
