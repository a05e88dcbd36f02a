// How backups are put into words for an owner who has never heard of restic: dates a
// person reads ("Today at 14:02", "3 days ago"), sizes, how often, where to, and how far
// a running backup is. Dates and numbers follow the system's locale through Intl.
import type {
  AppBackupStatus,
  BackupDestination,
  BackupSchedule,
  TaskSnapshot,
} from '../../../shared/model';

const day = 24 * 60 * 60 * 1000;

function timeOfDay(at: number): string {
  return new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(at);
}

function startOfDay(at: number): number {
  const date = new Date(at);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/** Whole calendar days from `now` to `at`: 0 today, -1 yesterday, 1 tomorrow. */
function calendarDays(at: number, now: number): number {
  return Math.round((startOfDay(at) - startOfDay(now)) / day);
}

function capitalized(words: string): string {
  return words.charAt(0).toLocaleUpperCase() + words.slice(1);
}

/**
 * When something happened or will happen, as a person says it: "Today at 14:02",
 * "Yesterday at 09:15", "3 days ago", "Tomorrow at 03:00", "Friday at 03:00", or a date.
 */
export function whenWords(at: number, now: number = Date.now()): string {
  const days = calendarDays(at, now);
  if (days >= -1 && days <= 1) {
    const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(
      days,
      'day',
    );
    return `${capitalized(relative)} at ${timeOfDay(at)}`;
  }
  if (days < 0 && days >= -13) {
    return capitalized(new Intl.RelativeTimeFormat(undefined).format(days, 'day'));
  }
  if (days > 0 && days < 7) {
    const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(at);
    return `${weekday} at ${timeOfDay(at)}`;
  }
  const sameYear = new Date(at).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(undefined, {
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(at);
}

/** whenWords inside a sentence: "today at 14:02", "3 days ago", "on Friday at 03:00". */
export function whenPhrase(at: number, now: number = Date.now()): string {
  const days = calendarDays(at, now);
  const words = whenWords(at, now);
  if (days >= -13 && days <= 1) return words.charAt(0).toLocaleLowerCase() + words.slice(1);
  return `on ${words}`;
}

/** A point in time in full, for choosing what to restore: "Tuesday, 1 December 2026 at 14:02". */
export function fullDateWords(at: number): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(at);
}

/** Bytes in binary units, as a file manager shows them: "512 B", "12.3 MiB", "1.2 GiB". */
export function sizeWords(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(value);
  return `${number} ${units[unit]}`;
}

/** The choices of how often; a schedule set elsewhere to another interval is added to them. */
export const scheduleChoices: readonly { hours: number; label: string }[] = [
  { hours: 6, label: 'Every 6 hours' },
  { hours: 12, label: 'Every 12 hours' },
  { hours: 24, label: 'Every day' },
  { hours: 24 * 7, label: 'Every week' },
];

export function everyWords(hours: number): string {
  const known = scheduleChoices.find((choice) => choice.hours === hours);
  if (known) return known.label;
  if (hours % 24 === 0) return `Every ${hours / 24} days`;
  return hours === 1 ? 'Every hour' : `Every ${hours} hours`;
}

export function scheduleWords(schedule: BackupSchedule): string {
  return schedule.enabled ? everyWords(schedule.everyHours) : 'Off';
}

export function destinationWords(destination: BackupDestination): string {
  return destination.kind === 'computer' ? 'This computer' : destination.deviceName;
}

/** Where a point's copy is kept: on this computer, or on the device that holds it. */
export function keptWords(
  point: { heldBy?: string },
  devices: readonly { id: string; name: string }[],
): string {
  if (point.heldBy === undefined) return 'on this computer';
  return `kept on ${devices.find((d) => d.id === point.heldBy)?.name ?? 'another device'}`;
}

/** A point's line under its date: how long ago, which version, how big (when known), where. */
export function pointMetaWords(
  point: { takenAt: number; appVersion: string; sizeBytes: number; heldBy?: string },
  devices: readonly { id: string; name: string }[],
  now: number = Date.now(),
): string {
  return [
    whenPhrase(point.takenAt, now),
    point.appVersion ? `version ${point.appVersion}` : null,
    // A copy another device took may not say its size.
    point.sizeBytes > 0 ? sizeWords(point.sizeBytes) : null,
    keptWords(point, devices),
  ]
    .filter((w) => w !== null)
    .join(' · ');
}

/** The line that says something needs the owner, or null when all is well. */
export function warningWords(status: AppBackupStatus, now: number = Date.now()): string | null {
  if (status.lastError) return status.lastError;
  if (status.overdue) {
    return status.lastBackupAt === null
      ? `${status.appName} has not been backed up yet, and its first backup is overdue.`
      : `${status.appName}'s backups are overdue: the last one was ${whenPhrase(status.lastBackupAt, now)}.`;
  }
  return null;
}

/** "about 5 minutes left", from how fast the task has gone so far; null when too early to say. */
export function timeLeftWords(task: TaskSnapshot, now: number = Date.now()): string | null {
  const progress = task.progress;
  if (!progress || task.state !== 'running' || !(progress.total > 0) || !(progress.done > 0)) {
    return null;
  }
  const elapsed = now - task.startedAt;
  if (elapsed < 3000) return null;
  const left = ((progress.total - progress.done) * elapsed) / progress.done;
  const minutes = Math.round(left / 60_000);
  if (minutes < 1) return 'less than a minute left';
  if (minutes < 90) return `about ${minutes} ${minutes === 1 ? 'minute' : 'minutes'} left`;
  const hours = Math.round(minutes / 60);
  return `about ${hours} hours left`;
}

/** "1.2 GiB of 3.4 GiB" for a task counting bytes; null for one counting steps. */
export function bytesDoneWords(task: TaskSnapshot): string | null {
  const progress = task.progress;
  if (progress?.unit !== 'bytes' || !(progress.total > 0)) return null;
  return `${sizeWords(progress.done)} of ${sizeWords(progress.total)}`;
}

/** An absolute folder on this computer (POSIX or Windows), as backups:* requires. */
export function isAbsoluteFolder(path: string): boolean {
  const trimmed = path.trim();
  if (trimmed.length === 0 || trimmed.length > 1024) return false;
  // eslint-disable-next-line no-control-regex -- a path with control characters is refused
  if (/[\u0000-\u001f]/.test(trimmed)) return false;
  return trimmed.startsWith('/') || /^[A-Za-z]:[\\/]/.test(trimmed);
}
