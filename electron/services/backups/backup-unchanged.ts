// Whether a run's fresh copies hold exactly the data of the last point, so that no new snapshot
// is needed. The stat identities (taken while the app was paused) only say that nothing seems
// to have written the volumes; the device's sha256 of each copy against the point's is what
// decides. Any doubt (no record, an identity the device could not give, a mismatch, the point
// no longer in the repository) means a full run.
import type { DeviceClient, VolumeCopy, VolumeIdentity } from '../device/device-client';
import type { Logger } from '../logger';
import { snapshotHost, snapshotPath } from './backup-format';
import type { LastPoint } from './backup-state';
import type { Restic } from './restic';

export interface UnchangedCheck {
  device: DeviceClient;
  restic: Restic;
  log: Logger;
  deviceId: string;
  appId: string;
  /** The run's copy tag: the copies hashCopies reads. */
  tag: string;
  previous: LastPoint;
  copies: readonly VolumeCopy[];
  imageSha256: string;
  specSha256: string;
  signal: AbortSignal;
}

const sameIdentity = (a: VolumeIdentity | null, b: VolumeIdentity | null) =>
  a !== null &&
  b !== null &&
  a.sizeBytes === b.sizeBytes &&
  a.mtime === b.mtime &&
  a.ctime === b.ctime &&
  a.inode === b.inode;

/**
 * What can be told without reading anything: the same image and spec, and volumes whose sizes
 * and stat identities are the point's. False means a full run, for certain.
 */
export function mayBeUnchanged(
  o: Pick<UnchangedCheck, 'previous' | 'imageSha256' | 'specSha256'> & {
    copies: readonly Pick<VolumeCopy, 'volume' | 'sizeBytes' | 'identity'>[];
  },
): boolean {
  const { previous, copies } = o;
  if (previous.imageSha256 !== o.imageSha256 || previous.specSha256 !== o.specSha256) return false;
  if (previous.volumes.length !== copies.length) return false;
  const recorded = new Map(previous.volumes.map((v) => [v.name, v]));
  return copies.every((copy) => {
    const was = recorded.get(copy.volume);
    return was && was.sizeBytes === copy.sizeBytes && sameIdentity(was.identity, copy.identity);
  });
}

/** True only when the last point provably holds this run's data and is still there. */
export async function unchangedSinceLastPoint(o: UnchangedCheck): Promise<boolean> {
  const { previous, copies } = o;
  if (!mayBeUnchanged(o)) return false;
  const recorded = new Map(previous.volumes.map((v) => [v.name, v]));
  try {
    const [hashes, snapshots] = await Promise.all([
      copies.length === 0
        ? Promise.resolve(new Map<string, string>())
        : o.device.hashCopies(
            o.appId,
            o.tag,
            copies.map((c) => c.volume),
            { signal: o.signal },
          ),
      o.restic.snapshots({ host: snapshotHost(o.deviceId), path: snapshotPath(o.appId) }),
    ]);
    // restic 0.14 may have named the point by its short id only.
    if (!snapshots.some((s) => s.id.startsWith(previous.snapshotId))) return false;
    return copies.every((c) => hashes.get(c.volume) === recorded.get(c.volume)?.sha256);
  } catch (error) {
    // A cancel is the owner's; anything else only means this run cannot skip (the full run
    // then meets the same fault, if it is one, and says so).
    if (o.signal.aborted) throw error;
    o.log.warn({ err: error, appId: o.appId }, 'could not tell whether the data changed');
    return false;
  }
}
