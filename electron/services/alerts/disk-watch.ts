// Reads each answering device's disk now and then (every few minutes: a disk fills slowly)
// for the disk alert. Only devices that answer are asked: an offline one is not dialled
// again for this, and keeps its last reading until it answers.
import type { Clock } from '../clock';
import type { DiskUsage } from './alert-policy';

export interface DiskWatchDeps {
  clock: Clock;
  read: (deviceId: string) => Promise<DiskUsage | null>;
  observe: (deviceId: string, usage: DiskUsage | null) => Promise<void>;
  everyMs?: number;
}

export class DiskWatch {
  readonly #deps: DiskWatchDeps;
  readonly #readAt = new Map<string, number>();

  constructor(deps: DiskWatchDeps) {
    this.#deps = deps;
  }

  /** Reads the disks of `answering` devices not read lately; one failure stops no other. */
  async poll(answering: readonly string[]): Promise<void> {
    const now = this.#deps.clock.now();
    const every = this.#deps.everyMs ?? 5 * 60_000;
    const due = answering.filter((id) => now - (this.#readAt.get(id) ?? -Infinity) >= every);
    await Promise.all(
      due.map(async (id) => {
        this.#readAt.set(id, now);
        const usage = await this.#deps.read(id).catch(() => undefined);
        // A failed read keeps the last reading: one hiccup does not resolve a full disk.
        if (usage !== undefined) await this.#deps.observe(id, usage);
      }),
    );
  }
}
