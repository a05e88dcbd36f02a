// What one backup is, in the repository. The laptop (backup-run.ts) and the device's own timer
// (peer backups) both write exactly this, so either can restore what the other took.
//
// One backup run = one restic snapshot = one tar stream given to `restic backup --stdin`:
//   volumes/<name>.img   each data volume, copied while the app was paused
//   image/<sha256>       the image the app ran (a restore onto a new device needs it)
//   spec.json            the app's spec.json as it was
//   hearth-backup.json   the manifest (BackupManifest), always the last member
// The tar holds only the data and what describes it, nothing of the moment (when it was taken,
// how long the app was paused: those are tags): the same data gives the same bytes, so restic
// stores nothing new for a run of data that did not change.
// restic writes a snapshot only when its input ended cleanly, so a run that is killed leaves
// no snapshot at all: nothing half-taken is ever listed or restored.
import { z } from 'zod';
import { shortNamePattern } from '../../../shared/ids';

export const BACKUP_FORMAT = 1;
export const MANIFEST_FILE = 'hearth-backup.json';
export const SPEC_FILE = 'spec.json';
export const volumeMember = (volume: string) => `volumes/${volume}.img`;
export const imageMember = (sha256: string) => `image/${sha256}`;

/** restic's view of a run: its host is the device id, its one path names the app. */
export const snapshotHost = (deviceId: string) => deviceId;
export const snapshotFile = (appId: string) => `${appId}.tar`;
/** The path restic records for `--stdin-filename <appId>.tar`. */
export const snapshotPath = (appId: string) => `/${snapshotFile(appId)}`;

export const TAG_HEARTH = 'hearth';
export const appTag = (appId: string) => `${POINT_TAG.app}=${appId}`;
export const versionTag = (version: string) =>
  `version=${version.replace(/[^A-Za-z0-9._+-]/g, '_')}`;

export interface PointFacts {
  appId: string;
  appName: string;
  appVersion: string;
  /** Bytes of the tar's volumes and image, known before the stream starts. */
  sizeBytes: number;
  volumes: string[];
  /** ms since epoch, when the app was paused for the copy. */
  takenAt?: number;
  pausedMs?: number;
}

/** The names of a run's tags (`<name>=<value>`), and how the volumes tag joins its names. */
export const POINT_TAG = {
  app: 'app',
  version: 'version',
  name: 'name',
  size: 'size',
  volumes: 'volumes',
  taken: 'taken',
  paused: 'paused',
} as const;
export const VOLUMES_SEPARATOR = '.';

/**
 * A run's tags: what the snapshot list needs without reading the tar (restic 0.14's snapshot
 * JSON has no sizes). Values are percent-encoded (encodeURIComponent), so a comma or a space
 * never splits a tag. The device's own backups write the same tags (peer-backups.ts).
 */
export function pointTags(facts: PointFacts): string[] {
  const enc = encodeURIComponent;
  const t = POINT_TAG;
  return [
    TAG_HEARTH,
    appTag(facts.appId),
    `${t.version}=${enc(facts.appVersion)}`,
    `${t.name}=${enc(facts.appName)}`,
    `${t.size}=${facts.sizeBytes}`,
    `${t.volumes}=${facts.volumes.join(VOLUMES_SEPARATOR)}`,
    ...(facts.takenAt === undefined ? [] : [`${t.taken}=${facts.takenAt}`]),
    ...(facts.pausedMs === undefined ? [] : [`${t.paused}=${facts.pausedMs}`]),
  ];
}

/** Reads pointTags back; tags it does not know (or a device's older script) are ignored. */
export function parsePointTags(tags: readonly string[]): Partial<PointFacts> {
  const out: Partial<PointFacts> = {};
  const t = POINT_TAG;
  const dec = (v: string) => {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  for (const tag of tags) {
    const at = tag.indexOf('=');
    if (at < 0) continue;
    const [k, v] = [tag.slice(0, at), tag.slice(at + 1)];
    if (k === t.app && shortNamePattern.test(v)) out.appId = v;
    else if (k === t.version) out.appVersion = dec(v).slice(0, 32);
    else if (k === t.name) out.appName = dec(v).slice(0, 64);
    else if (k === t.size && /^\d{1,15}$/.test(v)) out.sizeBytes = Number(v);
    else if (k === t.volumes)
      out.volumes = v.split(VOLUMES_SEPARATOR).filter((name) => shortNamePattern.test(name));
    else if (k === t.taken && /^\d{1,15}$/.test(v)) out.takenAt = Number(v);
    else if (k === t.paused && /^\d{1,15}$/.test(v)) out.pausedMs = Number(v);
  }
  return out;
}

/** 7 daily, 4 weekly, 6 monthly, grouped per device and app (`--group-by host,paths`). */
export const RETENTION = { daily: 7, weekly: 4, monthly: 6 } as const;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  deviceId: z.string().min(1).max(64),
  appId: z.string().regex(shortNamePattern),
  appName: z.string().min(1).max(64),
  appVersion: z.string().max(32),
  /**
   * ms since epoch, when the app was paused for the copy, and for how long. Only in points
   * taken before these moved to the snapshot's tags (by the laptop, or by a device's own timer
   * before its script wrote exactly this format): read, never written.
   */
  takenAt: z.number().int().nonnegative().optional(),
  pausedMs: z.number().int().nonnegative().optional(),
  volumes: z
    .array(
      z.object({
        name: z.string().regex(shortNamePattern),
        sizeBytes: z.number().int().nonnegative(),
        sha256,
      }),
    )
    .max(16),
  image: z.object({ sha256, sizeBytes: z.number().int().nonnegative() }),
  /** An app that boots with an initrd keeps it beside the image (image/<sha256> too). */
  initrd: z.object({ sha256, sizeBytes: z.number().int().nonnegative() }).optional(),
});

export type BackupManifest = z.infer<typeof backupManifestSchema>;
