// What every state class fed by main's events shares: the bridge, where its failures are told,
// and the listeners it holds while started, all let go at stop().
import type { HearthApi } from '../../../shared/hearth-api';
import type { NoticesState } from './notices.svelte';

export abstract class LiveState {
  protected readonly api: HearthApi;
  protected readonly notices: NoticesState;
  readonly #off: (() => void)[] = [];

  constructor(api: HearthApi, notices: NoticesState) {
    this.api = api;
    this.notices = notices;
  }

  /**
   * Subscribes before anything is listed, so nothing that happens in between is missed; once,
   * however often start() runs.
   */
  protected listen(...subscribe: (() => () => void)[]): void {
    if (this.#off.length === 0) for (const s of subscribe) this.#off.push(s());
  }

  /** Something else to undo at stop() (a media query listener). */
  protected onStop(off: () => void): void {
    this.#off.push(off);
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
  }
}
