// After each backup: forget the points the retention no longer keeps (7 daily, 4 weekly,
// 6 monthly, per device and app), prune what nothing refers to, and read part of the
// repository back (all of it once a month). A stale lock left by a killed run is cleared by the
// restic driver itself (only stale ones), so the queue never sticks.
import { RETENTION, snapshotHost, snapshotPath } from './backup-format';
import type { Restic } from './restic';

/** One of ten parts each time: every pack is read about every ten backups. */
const SUBSET = '1/10';

export async function careForRepository(
  restic: Restic,
  o: { deviceId: string; appId: string; fullCheck: boolean },
): Promise<{ ok: true } | { ok: false; sentence: string }> {
  const check = () =>
    restic.check(o.fullCheck ? { readData: 'full' } : { readData: 'subset', subset: SUBSET });
  try {
    await restic.forget({
      host: snapshotHost(o.deviceId),
      path: snapshotPath(o.appId),
      keepDaily: RETENTION.daily,
      keepWeekly: RETENTION.weekly,
      keepMonthly: RETENTION.monthly,
      prune: true,
    });
  } catch (error) {
    // Pruning reads packs it rewrites: a damaged one stops it. The check then says what is
    // wrong in the owner's words; anything else is the failure it was.
    const checked = await check().catch(() => null);
    if (checked && !checked.ok) return checked;
    throw error;
  }
  return check();
}
