import { describe, expect, it } from 'vitest';
import type { ScheduleFacts } from './backup-schedule';
import { DEFAULT_SCHEDULE, RETRY_AFTER_MS, isDue, isOverdue, nextRunAt } from './backup-schedule';

const H = 60 * 60_000;
const facts = (over: Partial<ScheduleFacts> = {}): ScheduleFacts => ({
  schedule: DEFAULT_SCHEDULE,
  lastBackupAt: null,
  lastFailureAt: null,
  firstSeenAt: 1_000,
  ...over,
});

describe('backup schedule', () => {
  it('runs an app that was never backed up at once, then daily', () => {
    expect(isDue(facts(), 1_000)).toBe(true);
    expect(nextRunAt(facts({ lastBackupAt: 5 * H }))).toBe(29 * H);
    expect(isDue(facts({ lastBackupAt: 5 * H }), 28 * H)).toBe(false);
  });

  it('runs a backup missed while the laptop slept at the next look, once', () => {
    // Asleep for three days: one run is due now, not three.
    const f = facts({ lastBackupAt: 0 });
    expect(isDue(f, 72 * H)).toBe(true);
    expect(nextRunAt(facts({ lastBackupAt: 72 * H }))).toBe(96 * H);
  });

  it('waits before retrying a failed run instead of looping', () => {
    const f = facts({ lastBackupAt: 0, lastFailureAt: 30 * H });
    expect(isDue(f, 30 * H + 1)).toBe(false);
    expect(nextRunAt(f)).toBe(30 * H + RETRY_AFTER_MS);
    // A failure older than the last success does not delay anything.
    expect(nextRunAt(facts({ lastBackupAt: 10 * H, lastFailureAt: 9 * H }))).toBe(34 * H);
  });

  it('is never due when the schedule is off, and never overdue', () => {
    const off = facts({ schedule: { enabled: false, everyHours: 24 } });
    expect(nextRunAt(off)).toBeNull();
    expect(isDue(off, 1e12)).toBe(false);
    expect(isOverdue(off, 1e12)).toBe(false);
  });

  it('calls a backup overdue a day after it was due', () => {
    expect(isOverdue(facts({ lastBackupAt: 0 }), 48 * H)).toBe(false);
    expect(isOverdue(facts({ lastBackupAt: 0 }), 48 * H + 1)).toBe(true);
    expect(isOverdue(facts({ firstSeenAt: 0 }), 24 * H + 1)).toBe(true);
  });

  it('takes a short hour for tests', () => {
    expect(
      nextRunAt(facts({ lastBackupAt: 0, schedule: { enabled: true, everyHours: 2 } }), 1000),
    ).toBe(2000);
  });
});
