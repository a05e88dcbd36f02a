// Which screen is showing. Plain in-app state: the app has four places and no URLs
// worth sharing, so a router would only add weight.

export type ViewId = 'devices' | 'apps' | 'backups' | 'activity';

export const views: readonly { id: ViewId; label: string }[] = [
  { id: 'devices', label: 'Devices' },
  { id: 'apps', label: 'Apps' },
  { id: 'backups', label: 'Backups' },
  { id: 'activity', label: 'Activity' },
];

export class NavigationState {
  view = $state<ViewId>('devices');
  /** Devices shows the add-device screen instead of the device list. */
  addingDevice = $state(false);
  /** During the first-run welcome: its first page, or the add-device page. */
  welcomePage = $state<'intro' | 'add-device'>('intro');
  /**
   * Bumped on every move the owner makes, so the new screen's heading takes focus
   * (screen readers announce where they are; keyboard users start from the top).
   * Zero means "nothing chosen yet": the first screen does not steal focus.
   */
  focusRequest = $state(0);

  go(view: ViewId): void {
    this.view = view;
    this.addingDevice = false;
    this.focusRequest++;
  }

  addDevice(): void {
    this.view = 'devices';
    this.addingDevice = true;
    this.focusRequest++;
  }

  showWelcomePage(page: 'intro' | 'add-device'): void {
    this.welcomePage = page;
    this.focusRequest++;
  }
}
