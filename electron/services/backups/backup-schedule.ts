// When an app's next backup is due. Plain arithmetic over what the state file remembers, so a
// run missed while the laptop slept is simply due at the next look (the scheduler's tick after
// waking), and a failed run is retried after a pause rather than in a tight loop.
import type { BackupSchedule } from '../../../shared/model';

export const DEFAULT_SCHEDULE: BackupSchedule = { enabled: true, everyHours: 24 };

/** After a failed attempt, wait this long (or the interval, if shorter) before the next. */
export const RETRY_AFTER_MS = 60 * 60_000;
/** Past due by this much, the owner is told the backup is overdue. */
export const OVERDUE_GRACE_MS = 24 * 60 * 60_000;

export interface ScheduleFacts {
  schedule: BackupSchedule;
  /** The newest complete backup. */
  lastBackupAt: number | null;
  /** The last run that ended in failure, if it came after the last success. */
  lastFailureAt: number | null;
  /** When the app was first seen by backups (the first run is due at once). */
  firstSeenAt: number;
}

/** ms: one interval. `intervalMs` lets tests (and e2e) run a schedule in seconds. */
export function intervalOf(schedule: BackupSchedule, hourMs = 60 * 60_000): number {
  return schedule.everyHours * hourMs;
}

/** When the next run should start, or null when the schedule is off. */
export function nextRunAt(facts: ScheduleFacts, hourMs?: number): number | null {
  if (!facts.schedule.enabled) return null;
  const interval = intervalOf(facts.schedule, hourMs);
  const due = facts.lastBackupAt === null ? facts.firstSeenAt : facts.lastBackupAt + interval;
  if (facts.lastFailureAt !== null && facts.lastFailureAt >= (facts.lastBackupAt ?? 0)) {
    return Math.max(due, facts.lastFailureAt + Math.min(RETRY_AFTER_MS, interval));
  }
  return due;
}

export function isDue(facts: ScheduleFacts, now: number, hourMs?: number): boolean {
  const next = nextRunAt(facts, hourMs);
  return next !== null && next <= now;
}

/** No backup for longer than the interval plus a day's grace (or never, a day after setup). */
export function isOverdue(facts: ScheduleFacts, now: number, hourMs?: number): boolean {
  if (!facts.schedule.enabled) return false;
  const since = facts.lastBackupAt ?? facts.firstSeenAt;
  const allowed = facts.lastBackupAt === null ? 0 : intervalOf(facts.schedule, hourMs);
  return now - since > allowed + OVERDUE_GRACE_MS;
}
