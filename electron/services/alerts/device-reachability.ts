// Whether each device answers, learned from the connections Hearth opens anyway (the app
// monitor's refresh of every device, installs, backups): no extra traffic. A refused host key
// is remembered as a changed identity, not as "offline".
import type { Clock } from '../clock';
import type { DeviceReach } from './alert-policy';

export class DeviceReachability {
  readonly #clock: Clock;
  readonly #reach = new Map<string, DeviceReach>();
  readonly #changed: () => void;

  constructor(clock: Clock, changed: () => void = () => undefined) {
    this.#clock = clock;
    this.#changed = changed;
  }

  answered(deviceId: string): void {
    const was = this.#reach.get(deviceId);
    if (was && was.unreachableSince === null && !was.identityChanged) return;
    this.#reach.set(deviceId, { unreachableSince: null, identityChanged: false });
    this.#changed();
  }

  failed(deviceId: string, error: unknown): void {
    const was = this.#reach.get(deviceId);
    const identityChanged = (error as { code?: unknown } | null)?.code === 'HOST_KEY_CHANGED';
    const next: DeviceReach = {
      unreachableSince: was?.unreachableSince ?? this.#clock.now(),
      identityChanged,
    };
    if (was?.unreachableSince === next.unreachableSince && was.identityChanged === identityChanged)
      return;
    this.#reach.set(deviceId, next);
    this.#changed();
  }

  forget(deviceId: string): void {
    if (this.#reach.delete(deviceId)) this.#changed();
  }

  /** Devices whose last connection went well. */
  answering(): string[] {
    return [...this.#reach]
      .filter(([, r]) => r.unreachableSince === null && !r.identityChanged)
      .map(([id]) => id);
  }

  snapshot(): ReadonlyMap<string, DeviceReach> {
    return new Map(this.#reach);
  }

  /** Wraps a connection opener so every outcome is noted; errors still reach the caller. */
  watch<T>(open: (deviceId: string) => Promise<T>): (deviceId: string) => Promise<T> {
    return async (deviceId) => {
      try {
        const opened = await open(deviceId);
        this.answered(deviceId);
        return opened;
      } catch (error) {
        this.failed(deviceId, error);
        throw error;
      }
    };
  }
}
