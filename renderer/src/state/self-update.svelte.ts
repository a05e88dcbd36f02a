// Hearth's own update, as main tells it (app:selfUpdate): ready to restart into, or why the
// download was refused. Restarting waits in main while an app's backup, restore or update runs.
import type { SelfUpdateNotice } from '../../../shared/ipc';
import { LiveState } from './live-state.svelte';

/** "0.3.0" reads as 0.3, "0.3.1" as itself. */
export function shortVersion(version: string): string {
  return version.replace(/^(\d+\.\d+)\.0$/, '$1');
}

export function readyHeadline(version: string): string {
  return `Hearth ${shortVersion(version)} is ready — restart to update`;
}

export class SelfUpdateState extends LiveState {
  notice = $state.raw<SelfUpdateNotice | null>(null);
  /** Asked to restart while app work runs: main restarts when it has finished. */
  waiting = $state(false);

  start(): void {
    this.listen(() =>
      this.api.on('app:selfUpdate', (notice) => {
        this.notice = notice;
        this.waiting = false;
      }),
    );
  }

  async restart(): Promise<void> {
    try {
      const { restarting } = await this.api.app.restartToUpdate();
      this.waiting = !restarting;
    } catch (error) {
      this.notices.report(error);
    }
  }

  dismiss(): void {
    this.notice = null;
  }
}
