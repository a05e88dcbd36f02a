// Runs each app's backups when they are due, one at a time, while Hearth is open. A run missed
// while the laptop slept is due at the first tick after it wakes; a failed run waits before it
// is tried again (backup-schedule.ts). Apps whose copies go to another device are left to that
// device's own timer.
import type { AppMonitor } from '../apps/app-monitor';
import type { Clock, Sleep } from '../clock';
import type { Logger } from '../logger';
import { isDue } from './backup-schedule';
import type { BackupService } from './backup-service';
import type { BackupStateStore } from './backup-state';
import { isScratchCopy } from './restore-drill';
import { BackgroundLoop } from '../tasks/background-loop';

export interface BackupSchedulerDeps {
  service: Pick<
    BackupService,
    'run' | 'finished' | 'busy' | 'facts' | 'hourMs' | 'publish' | 'refreshPeer' | 'tidy'
  >;
  state: BackupStateStore;
  monitor: Pick<AppMonitor, 'list'>;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  /** How often to look; a minute by default. */
  tickMs?: number;
}

export class BackupScheduler {
  readonly #deps: BackupSchedulerDeps;
  readonly #background = new BackgroundLoop((signal) => this.#loop(signal));

  constructor(deps: BackupSchedulerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#background.start();
  }

  stop(): void {
    this.#background.stop();
  }

  /** One look at every app: runs, one after another, those that are due. */
  async tick(): Promise<number> {
    const { state, monitor, clock, service } = this.#deps;
    const doc = await state.read();
    if (!doc.repository?.kitConfirmed) return 0;
    let ran = 0;
    for (const app of monitor.list()) {
      if (app.state === 'installing' || isScratchCopy(app)) continue;
      if (service.busy(app.deviceId, app.appId)) continue;
      // Offline or busy on the device: tried again at the next tick.
      await service.tidy(app.deviceId, app.appId).catch(() => undefined);
      const st = await state.app(app.deviceId, app.appId, clock.now());
      if (st.destination.kind === 'device') {
        // The device's own timer runs these; here Hearth only reads how it went.
        await service.refreshPeer(app.deviceId, app.appId).catch(() => undefined);
        continue;
      }
      if (!isDue(service.facts(st), clock.now(), service.hourMs)) continue;
      try {
        const taskId = await service.run(app.deviceId, app.appId);
        await service.finished(taskId);
        ran++;
      } catch (error) {
        // Busy or offline: the next tick tries again; the failure is in the state already.
        this.#deps.log.info({ err: error, appId: app.appId }, 'a scheduled backup did not start');
      }
    }
    await service.publish();
    return ran;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const every = this.#deps.tickMs ?? 60_000;
    while (!signal.aborted) {
      await this.tick().catch((error: unknown) =>
        this.#deps.log.warn({ err: error }, 'the backup schedule could not be checked'),
      );
      await this.#deps.sleep(every, signal);
    }
  }
}
