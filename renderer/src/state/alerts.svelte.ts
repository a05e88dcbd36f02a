// Alerts: what needs the owner now, and the quiet history of what no longer does
// (alerts:list, then every alerts:changed). Fed from the start, not when Activity opens:
// the frame can show that something needs the owner from any view.
import type { Alert, AlertsSnapshot, OverallState } from '../../../shared/model';
import { LiveState } from './live-state.svelte';

export class AlertsState extends LiveState {
  snapshot = $state.raw<AlertsSnapshot | null>(null);
  loaded = $state(false);

  #changes = 0;

  get open(): readonly Alert[] {
    return this.snapshot?.open ?? [];
  }

  get history(): readonly Alert[] {
    return this.snapshot?.history ?? [];
  }

  get overall(): OverallState {
    return this.snapshot?.overall ?? 'all-well';
  }

  async start(): Promise<void> {
    // Subscribe before asking, so nothing that happens in between is missed.
    this.listen(() =>
      this.api.on('alerts:changed', (snapshot) => {
        this.#changes++;
        this.snapshot = snapshot;
        this.loaded = true;
      }),
    );
    const changesBefore = this.#changes;
    try {
      const listed = await this.api.alerts.list();
      if (this.#changes === changesBefore) this.snapshot = listed;
    } catch (error) {
      this.notices.report(error);
    } finally {
      this.loaded = true;
    }
  }
}
