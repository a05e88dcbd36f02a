// One piece of work at a time per app: a backup, a restore, a restore drill or (issue 11) an
// update. Two of them on the same app would copy half-updated volumes or swap data under a
// running update, so the second one is refused (or waits) with a sentence, never interleaved.
import { HearthError } from '../../../shared/errors';

export type AppWork = 'backup' | 'restore' | 'drill' | 'update';

interface Held {
  work: AppWork;
  released: Promise<void>;
}

const key = (deviceId: string, appId: string) => `${deviceId}/${appId}`;

export class AppLocks {
  readonly #held = new Map<string, Held>();

  /** What holds the app now, if anything. */
  holder(deviceId: string, appId: string): AppWork | null {
    return this.#held.get(key(deviceId, appId))?.work ?? null;
  }

  /** True while any app's backup, restore, drill or update runs (Hearth must not restart). */
  anyHeld(): boolean {
    return this.#held.size > 0;
  }

  /** Takes the app's lock or throws BACKUP_BUSY; call the returned function exactly once. */
  tryAcquire(deviceId: string, appId: string, work: AppWork): () => void {
    const k = key(deviceId, appId);
    if (this.#held.has(k)) throw new HearthError('BACKUP_BUSY');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#held.set(k, { work, released });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#held.delete(k);
      release();
    };
  }

  /** Waits for whatever holds the app (an update waits for a running backup), then takes it. */
  async acquire(
    deviceId: string,
    appId: string,
    work: AppWork,
    signal?: AbortSignal,
  ): Promise<() => void> {
    for (;;) {
      const held = this.#held.get(key(deviceId, appId));
      if (!held) return this.tryAcquire(deviceId, appId, work);
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new HearthError('CANCELLED'));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        void held.released.then(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }
}
