// Which screen is showing. Plain in-app state: the app has four places and no URLs
// worth sharing, so a router would only add weight.
import type { AlertTarget } from '../../../shared/model';

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
  /**
   * The device or app an alert's action (or a notification) asked for, until its view has
   * brought it into sight and said so with opened().
   */
  opening = $state.raw<AlertTarget | null>(null);

  go(view: ViewId): void {
    this.view = view;
    this.addingDevice = false;
    this.opening = null;
    this.focusRequest++;
  }

  /** Goes where an alert points: its view, at the device or app it names. */
  open(target: AlertTarget): void {
    this.go(target.view);
    if (target.deviceId !== undefined) this.opening = target;
  }

  /** The view showed what `opening` named: a later visit starts at the top again. */
  opened(): void {
    this.opening = null;
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
