// A list of per-app statuses that main keeps fresh: its answer to a list request, then every
// change event. An answer that was on its way while an event arrived is older than that event
// and is dropped, so a slow request never puts back what main has since changed.
import type { AppRef } from './apps.svelte';
import { LiveState } from './live-state.svelte';

export abstract class AppStatusList<T extends AppRef> extends LiveState {
  list = $state.raw<readonly T[]>([]);
  /** Whether the list has answered once (an empty state waits for it). */
  loaded = $state(false);
  /** Counts lists main sent by itself, so a request's answer older than one is not applied. */
  #changes = 0;

  /** A list main sent (a change event, or the answer to an action): as fresh as it gets. */
  protected received(list: readonly T[]): void {
    this.#changes++;
    this.list = list;
    this.loaded = true;
  }

  /** Asks for the list; failures are told where the owner reads them. */
  protected async fetch(ask: () => Promise<readonly T[]>): Promise<void> {
    const changesBefore = this.#changes;
    try {
      const listed = await ask();
      if (this.#changes === changesBefore) this.list = listed;
    } catch (error) {
      this.notices.report(error);
    } finally {
      this.loaded = true;
    }
  }

  /** The status of one app, if it is installed. */
  statusOf(ref: AppRef): T | undefined {
    return this.list.find((s) => s.deviceId === ref.deviceId && s.appId === ref.appId);
  }
}
