// Native notifications: Hearth speaks up once per alert that needs the owner (warning or
// worse), and a click takes them to the device or app concerned.
//
// A resolved alert gets no notification. Good news asks nothing of the owner, and the tray
// icon and Activity's history already say it quietly; a notification still on screen
// about it is taken back instead, so no one clicks through to a problem that is gone.
import type { Notification, NotificationConstructorOptions } from 'electron';
import type { Alert, AlertsSnapshot, AlertTarget } from '../../shared/model';
import { targetOf } from './tray-menu';

export interface NotifierDeps {
  Notification: (new (options: NotificationConstructorOptions) => Notification) & {
    isSupported(): boolean;
  };
}

export interface NotifierOptions {
  /** Shows and focuses the window, at the target. */
  open(target: AlertTarget): void;
  /** Hearth's icon, where the platform shows one beside the text (Linux). */
  icon?: string;
}

export interface Notifier {
  /** Alerts already open when Hearth starts were spoken of before it last stopped. */
  seed(snapshot: AlertsSnapshot): void;
  observe(snapshot: AlertsSnapshot): void;
}

const speaksUp = (alert: Alert) => alert.severity !== 'info';
/** One alert, once: a flapping device is reopened with its old raisedAt (see Alert). */
const idOf = (alert: Alert) => `${alert.key}@${alert.raisedAt}`;

export function createNotifier(deps: NotifierDeps, options: NotifierOptions): Notifier {
  const told = new Set<string>();
  // Kept so a click is still heard (Electron drops the handlers of a collected one), and
  // so it can be taken back once its alert resolves.
  const onScreen = new Map<string, Notification>();

  const tell = (alert: Alert) => {
    const notification = new deps.Notification({
      title: alert.severity === 'problem' ? 'Hearth: something needs you' : 'Hearth',
      body: alert.message,
      ...(options.icon ? { icon: options.icon } : {}),
    });
    const target = targetOf(alert);
    notification.on('click', () => {
      onScreen.delete(idOf(alert));
      options.open(target);
    });
    notification.on('close', () => onScreen.delete(idOf(alert)));
    onScreen.set(idOf(alert), notification);
    notification.show();
  };

  return {
    seed(snapshot) {
      for (const alert of snapshot.open) if (speaksUp(alert)) told.add(idOf(alert));
    },
    observe(snapshot) {
      const open = new Set(snapshot.open.map(idOf));
      for (const [id, notification] of onScreen)
        if (!open.has(id)) {
          onScreen.delete(id);
          notification.close();
        }
      if (!deps.Notification.isSupported()) return;
      for (const alert of snapshot.open) {
        // An alert that was only "good to know" and became a warning speaks up then.
        if (!speaksUp(alert) || told.has(idOf(alert))) continue;
        told.add(idOf(alert));
        tell(alert);
      }
    },
  };
}
