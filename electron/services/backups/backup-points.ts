// restic's snapshot list, as the points in time an owner can restore to. Only Hearth's own
// snapshots count (tag "hearth", one path `/<app>.tar`, a device id as host); anything else in
// the repository is left alone and never offered.
import type { BackupPoint } from '../../../shared/model';
import { TAG_HEARTH, parsePointTags, snapshotPath } from './backup-format';

export interface SnapshotLike {
  id: string;
  time: number;
  host: string;
  paths: string[];
  tags: string[];
}

/** The one path of a Hearth snapshot, `/<app>.tar`; its group is the app id. */
export const TAR_PATH = /^\/([a-z][a-z0-9-]{0,31})\.tar$/;

export function toPoint(snapshot: SnapshotLike): BackupPoint | null {
  if (!snapshot.tags.includes(TAG_HEARTH) || snapshot.paths.length !== 1) return null;
  const match = TAR_PATH.exec(snapshot.paths[0] ?? '');
  if (!match) return null;
  const appId = match[1]!;
  const facts = parsePointTags(snapshot.tags);
  if (facts.appId !== undefined && facts.appId !== appId) return null;
  return {
    id: snapshot.id,
    deviceId: snapshot.host,
    appId,
    appName: facts.appName ?? appId,
    appVersion: facts.appVersion ?? '',
    // The moment of the copy where the run tagged it; restic's own time is when it started.
    takenAt: facts.takenAt ?? snapshot.time,
    sizeBytes: facts.sizeBytes ?? 0,
    volumes: facts.volumes ?? [],
  };
}

/** Newest first. */
export function toPoints(snapshots: readonly SnapshotLike[]): BackupPoint[] {
  return snapshots
    .map(toPoint)
    .filter((p): p is BackupPoint => p !== null)
    .sort((a, b) => b.takenAt - a.takenAt);
}

export function pointsOf(points: readonly BackupPoint[], deviceId: string, appId: string) {
  return points.filter((p) => p.deviceId === deviceId && p.appId === appId);
}

export { snapshotPath };
