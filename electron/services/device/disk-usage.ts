// How full the device's data disk is: the filesystem holding Hearth's apps and their data,
// read with df as the hearth account. Provisioning records only the free space it saw once;
// the disk alert needs the share in use now.
import { deviceLayout } from './layout';
import type { ScriptSession } from './remote-script';
import { runOperation } from './remote-script';

export interface DeviceDiskUsage {
  usedBytes: number;
  /**
   * Used plus available: what df's "Use%" is a share of (the blocks reserved for root are
   * not the apps' to fill, so a disk is full when nothing is available).
   */
  totalBytes: number;
}

export const diskUsageScript = `df -Pk ${deviceLayout.stateDir} | tail -n 1`;

/** df -Pk's last line: filesystem, 1024-blocks, used, available, capacity, mount point. */
export function parseDiskUsage(stdout: string): DeviceDiskUsage | null {
  const fields = stdout.trim().split('\n').at(-1)?.trim().split(/\s+/) ?? [];
  const used = Number(fields[2]);
  const available = Number(fields[3]);
  if (!Number.isSafeInteger(used) || !Number.isSafeInteger(available)) return null;
  if (used < 0 || available < 0 || used + available === 0) return null;
  return { usedBytes: used * 1024, totalBytes: (used + available) * 1024 };
}

/** Null when the device could not tell (df failed or said something else). */
export async function readDiskUsage(session: ScriptSession): Promise<DeviceDiskUsage | null> {
  const out = await runOperation(session, 'disk-usage', [], diskUsageScript, {
    timeoutMs: 15_000,
  });
  return out.code === 0 ? parseDiskUsage(out.stdout) : null;
}
