// Looks at every installed app's update state on its device now and then: what "go back" can
// return to, what the device settled by itself at a boot, and any transaction nobody drives
// any more (this computer's services died in the middle), which it settles (update-transaction
// sweep()). Cheap: one command per app per look, and a look a minute.
import type { AppMonitor } from '../apps/app-monitor';
import type { Sleep } from '../clock';
import type { Logger } from '../logger';
import type { UpdateTransaction } from './update-transaction';
import { BackgroundLoop } from '../tasks/background-loop';

export interface UpdateSweepDeps {
  monitor: Pick<AppMonitor, 'list'>;
  transaction: Pick<UpdateTransaction, 'sweep'>;
  sleep: Sleep;
  log: Logger;
  /** Between looks (a minute; e2e: seconds). */
  everyMs?: number;
}

export class UpdateSweep {
  readonly #deps: UpdateSweepDeps;
  readonly #background = new BackgroundLoop((signal) => this.#loop(signal));

  constructor(deps: UpdateSweepDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#background.start();
  }

  stop(): void {
    this.#background.stop();
  }

  /** One look at every app the monitor knows (those whose device answers). */
  async once(): Promise<void> {
    for (const app of this.#deps.monitor.list()) {
      if (app.state === 'offline') continue;
      await this.#deps.transaction.sweep(app.deviceId, app.appId).catch((err: unknown) => {
        this.#deps.log.debug({ err, appId: app.appId }, 'an app’s update state could not be read');
      });
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.once();
      await this.#deps.sleep(this.#deps.everyMs ?? 60_000, signal);
    }
  }
}
