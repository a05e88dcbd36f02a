// Turns what Hearth observes (devices, apps, backups, updates) into the conditions that need
// the owner, each with its stable key, its sentence and the one action that fixes it. Pure:
// whether a condition is raised yet, kept or resolved is the alert book's business.
import type {
  Alert,
  AlertAction,
  AlertKind,
  AlertSeverity,
  AppBackupStatus,
  AppUpdateStatus,
  DeviceRecord,
  InstalledApp,
} from '../../../shared/model';

/** How a device's connection stands, as the SSH sessions last found it. */
export interface DeviceReach {
  /** Since when every attempt to reach it failed; null while it answers. */
  unreachableSince: number | null;
  /** Its host key is not the one Hearth recorded: Hearth refused to talk to it. */
  identityChanged: boolean;
}

/** The device's data disk (the filesystem that holds Hearth's apps), as last measured. */
export interface DiskUsage {
  usedBytes: number;
  totalBytes: number;
}

export interface Observations {
  devices: readonly DeviceRecord[];
  reach: ReadonlyMap<string, DeviceReach>;
  disks: ReadonlyMap<string, DiskUsage>;
  apps: readonly InstalledApp[];
  backups: readonly AppBackupStatus[];
  updates: readonly AppUpdateStatus[];
}

/** The lists not heard of yet since Hearth started are null: nothing is known about them. */
export type PartialObservations = {
  [K in keyof Observations]: Observations[K] | null;
};

export interface PolicyOptions {
  /** A device must stay unreachable this long before it is called offline (2 minutes). */
  offlineAfterMs: number;
}

export const DISK_RAISE_RATIO = 0.9;
/** Below this the disk alert clears: a disk hovering at 90% raises once, not at every wobble. */
export const DISK_CLEAR_RATIO = 0.88;
const DAY_MS = 24 * 3_600_000;
/**
 * A rollback already put the old version back: the owner is told, but it is not a standing
 * fault. Its alert ends after a few days even if no later update comes.
 */
export const ROLLBACK_NOTICE_MS = 3 * DAY_MS;

/** One thing that needs the owner now. */
export interface Condition {
  key: string;
  kind: AlertKind;
  severity: AlertSeverity;
  message: string;
  action: AlertAction | null;
  deviceId?: string;
  appId?: string;
  /** The quiet sentence for history once it clears. */
  resolvedMessage: string;
  /** Raise only once the condition has held since `since` for `raiseAfterMs`. */
  since: number;
  raiseAfterMs: number;
  /** Keeps an open alert open but does not raise one (the band between clear and raise). */
  keepOnly?: boolean;
}

const showDevice = (deviceId: string): AlertAction => ({
  label: 'Show the device',
  target: { view: 'devices', deviceId },
});
const appTarget = (view: 'apps' | 'backups', a: { deviceId: string; appId: string }) => ({
  view,
  deviceId: a.deviceId,
  appId: a.appId,
});

export function conditions(obs: Observations, now: number, options: PolicyOptions): Condition[] {
  const out: Condition[] = [];
  const names = new Map(obs.devices.map((d) => [d.id, d.name]));
  const unreachable = new Set<string>();
  for (const device of obs.devices) {
    const reach = obs.reach.get(device.id);
    const name = device.name;
    if (reach?.identityChanged) {
      unreachable.add(device.id);
      out.push({
        key: `device-identity:${device.id}`,
        kind: 'device-identity-changed',
        severity: 'problem',
        message:
          `${name} answered with a different identity than the one Hearth knows, so Hearth ` +
          'stopped talking to it. If you reinstalled its system, remove it and set it up ' +
          'again; if not, something else may be pretending to be it.',
        action: showDevice(device.id),
        deviceId: device.id,
        resolvedMessage: `${name} has its own identity again.`,
        since: now,
        raiseAfterMs: 0,
      });
    } else if (reach?.unreachableSince != null) {
      unreachable.add(device.id);
      out.push({
        key: `device-offline:${device.id}`,
        kind: 'device-offline',
        severity: 'problem',
        message:
          `${name} is not answering, so Hearth cannot look after its apps. Check that it is ` +
          'switched on and connected to your home network.',
        action: showDevice(device.id),
        deviceId: device.id,
        resolvedMessage: `${name} is back online.`,
        since: reach.unreachableSince,
        raiseAfterMs: options.offlineAfterMs,
      });
    }
    if (device.needsPreparing && !unreachable.has(device.id))
      out.push({
        key: `device-needs-preparing:${device.id}`,
        kind: 'device-needs-preparing',
        severity: 'warning',
        message:
          `${name} was prepared by an older Hearth, so some of what this Hearth does cannot ` +
          'work there yet. Prepare it again; its apps and their data stay as they are.',
        action: {
          label: 'Prepare it again',
          target: { view: 'devices', deviceId: device.id, show: 'prepare-again' },
        },
        deviceId: device.id,
        resolvedMessage: `${name} is prepared by this Hearth now.`,
        since: now,
        raiseAfterMs: 0,
      });
    const disk = obs.disks.get(device.id);
    if (disk && disk.totalBytes > 0 && !unreachable.has(device.id)) {
      const ratio = disk.usedBytes / disk.totalBytes;
      if (ratio >= DISK_CLEAR_RATIO)
        out.push({
          key: `device-disk:${device.id}`,
          kind: 'device-disk-full',
          severity: 'warning',
          message:
            `${name}'s disk is ${Math.floor(ratio * 100)}% full. When it is full, apps stop ` +
            'saving data and backups fail. Remove apps or data you no longer need.',
          action: showDevice(device.id),
          deviceId: device.id,
          resolvedMessage: `${name}'s disk has room again.`,
          since: now,
          raiseAfterMs: 0,
          ...(ratio < DISK_RAISE_RATIO ? { keepOnly: true } : {}),
        });
    }
  }

  for (const app of obs.apps) {
    // An offline device's apps are covered by the device's own alert.
    if (unreachable.has(app.deviceId) || app.state === 'offline') continue;
    const trouble = appTrouble(app);
    if (!trouble) continue;
    out.push({
      key: `app:${app.deviceId}/${app.appId}`,
      ...trouble,
      // Its console is where a failing app says why.
      action: {
        label: `Open ${app.name}'s console`,
        target: { ...appTarget('apps', app), show: 'console' },
      },
      deviceId: app.deviceId,
      appId: app.appId,
      resolvedMessage: `${app.name} on ${app.deviceName} is no longer failing.`,
      since: now,
      raiseAfterMs: 0,
    });
  }

  for (const b of obs.backups) {
    const where = `${b.appName} on ${b.deviceName}`;
    if (b.overdue || b.lastError) {
      const days = b.lastBackupAt === null ? null : Math.floor((now - b.lastBackupAt) / DAY_MS);
      const last = b.lastError ? ` The last attempt failed: ${b.lastError}` : '';
      const overdue = b.overdue;
      out.push({
        key: `backup:${b.deviceId}/${b.appId}`,
        kind: overdue ? 'backup-overdue' : 'backup-failed',
        severity: 'warning',
        message: overdue
          ? days === null
            ? `${where} has never been backed up.${last}`
            : `${where} has had no backup for ${days} ${days === 1 ? 'day' : 'days'}.${last}`
          : `The last backup of ${where} failed: ${b.lastError ?? ''} Hearth tries again at the next scheduled time.`,
        action: { label: 'Open backups', target: appTarget('backups', b) },
        deviceId: b.deviceId,
        appId: b.appId,
        resolvedMessage: `${where} is backed up again.`,
        since: now,
        raiseAfterMs: 0,
      });
    }
    if (b.lastDrill && !b.lastDrill.ok)
      out.push({
        key: `drill:${b.deviceId}/${b.appId}`,
        kind: 'drill-failed',
        severity: 'problem',
        message:
          `A test restore of ${where} did not work, so its backups may not bring it back.` +
          (b.lastDrill.message ? ` ${b.lastDrill.message}` : ''),
        action: { label: 'Open backups', target: appTarget('backups', b) },
        deviceId: b.deviceId,
        appId: b.appId,
        resolvedMessage: `A test restore of ${where} worked.`,
        since: now,
        raiseAfterMs: 0,
      });
  }

  for (const u of obs.updates) {
    const where = `${u.appName} on ${names.get(u.deviceId) ?? 'a device'}`;
    if (u.available)
      out.push({
        key: `update:${u.deviceId}/${u.appId}`,
        kind: 'update-available',
        severity: 'info',
        message: `Version ${u.available.version} of ${where} is available.`,
        action: { label: 'See the update', target: appTarget('apps', u) },
        deviceId: u.deviceId,
        appId: u.appId,
        resolvedMessage: `${where} is up to date.`,
        since: now,
        raiseAfterMs: 0,
      });
    if (u.lastOutcome?.kind === 'rolled-back' && now - u.lastOutcome.at < ROLLBACK_NOTICE_MS)
      out.push({
        key: `rolled-back:${u.deviceId}/${u.appId}`,
        kind: 'update-rolled-back',
        severity: 'warning',
        message: u.lastOutcome.message,
        action: { label: 'Open the app', target: appTarget('apps', u) },
        deviceId: u.deviceId,
        appId: u.appId,
        resolvedMessage: `${where} has been updated since its update was rolled back.`,
        since: u.lastOutcome.at,
        raiseAfterMs: 0,
      });
  }
  return out;
}

function appTrouble(app: InstalledApp): Pick<Condition, 'kind' | 'severity' | 'message'> | null {
  const where = `${app.name} on ${app.deviceName}`;
  switch (app.state) {
    case 'gave-up':
      return {
        kind: 'app-gave-up',
        severity: 'problem',
        message:
          `${where} kept stopping right after it started, so the device stopped trying. Its ` +
          'data is safe. Try starting it again; if it keeps happening, reinstall or remove it.',
      };
    case 'crashed':
      return {
        kind: 'app-crashed',
        severity: 'warning',
        message: `${where} stopped unexpectedly. Its data is safe; you can start it again.`,
      };
    case 'restarting':
      // One automatic restart is systemd doing its job; a second one in a row is a loop.
      return app.restarts >= 2
        ? {
            kind: 'app-restarting',
            severity: 'warning',
            message: `${where} keeps stopping and being restarted (${app.restarts} times so far). Open its console to see why.`,
          }
        : null;
    default:
      return null;
  }
}

/**
 * Whether the observations can tell if an open alert still holds. When they cannot (right
 * after a restart, before the first report; an app whose device is offline), the alert stays
 * open as it is rather than being called resolved.
 */
export function isKnown(alert: Alert, obs: PartialObservations): boolean {
  const { deviceId } = alert;
  if (obs.devices === null) return false;
  // A device Hearth no longer looks after: its alerts are over.
  if (deviceId !== undefined && !obs.devices.some((d) => d.id === deviceId)) return true;
  const reach = deviceId === undefined ? undefined : obs.reach?.get(deviceId);
  const unreachable = reach ? reach.unreachableSince !== null || reach.identityChanged : false;
  const answers = reach !== undefined && !unreachable;
  const sameApp = (a: { deviceId: string; appId: string }) =>
    a.deviceId === deviceId && a.appId === alert.appId;
  const seen = obs.apps?.some((a) => sameApp(a) && a.state !== 'offline') ?? false;
  // An app is known when the monitor sees it, or when its device answers without it (removed).
  const appKnown = obs.apps !== null && (seen || answers);
  switch (alert.kind) {
    case 'device-offline':
    case 'device-identity-changed':
      return reach !== undefined;
    case 'device-needs-preparing':
      // Known from the record alone; an offline device's stays open until it answers.
      return !unreachable;
    case 'device-disk-full':
      return !unreachable && deviceId !== undefined && (obs.disks?.has(deviceId) ?? false);
    case 'app-crashed':
    case 'app-restarting':
    case 'app-gave-up':
      return appKnown && !unreachable;
    case 'backup-failed':
    case 'backup-overdue':
    case 'drill-failed':
      return appKnown && obs.backups !== null && (!seen || obs.backups.some(sameApp));
    case 'update-available':
    case 'update-rolled-back':
      return appKnown && obs.updates !== null && (!seen || obs.updates.some(sameApp));
  }
}
