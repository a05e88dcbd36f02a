// "Check this computer" (from Activity's heading): progress arrives through TasksState
// like any other task.
import type { HearthApi } from '../../../shared/hearth-api';
import type { NoticesState } from './notices.svelte';

export class ChecksState {
  /** Waiting for the app to accept the request; the button is disabled meanwhile. */
  starting = $state(false);

  readonly #api: HearthApi;
  readonly #notices: NoticesState;

  constructor(api: HearthApi, notices: NoticesState) {
    this.#api = api;
    this.#notices = notices;
  }

  /** Starts the check; returns its task id, or null if it could not start (owner told why). */
  async run(): Promise<string | null> {
    if (this.starting) return null;
    this.starting = true;
    try {
      const { taskId } = await this.#api.checks.run();
      return taskId;
    } catch (error) {
      this.#notices.report(error);
      return null;
    } finally {
      this.starting = false;
    }
  }
}
