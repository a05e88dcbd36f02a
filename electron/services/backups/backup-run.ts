// One backup of one app, start to end: stale copies of a killed run removed, the volumes copied
// on the device while the app is paused for just that moment, the copies (and the image and
// spec.json, so a new device can be given the app) streamed as one tar into restic, and the
// copies removed whatever happens. The device resumes the app by itself if this laptop dies.
import type { Readable } from 'node:stream';
import { HearthError } from '../../../shared/errors';
import type { AppSpec } from '../apps/app-spec';
import type { Clock } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { Logger } from '../logger';
import {
  BACKUP_FORMAT,
  MANIFEST_FILE,
  SPEC_FILE,
  imageMember,
  pointTags,
  snapshotFile,
  snapshotHost,
  volumeMember,
} from './backup-format';
import type { BackupManifest } from './backup-format';
import type { TarMember } from './backup-tar';
import { packBackup } from './backup-tar';
import type { Restic } from './restic';

export interface BackupRunDeps {
  device: DeviceClient;
  restic: Restic;
  clock: Clock;
  log: Logger;
}

export interface BackupRunInput {
  deviceId: string;
  spec: AppSpec;
  signal: AbortSignal;
  /** The app runs again: its data is copied and it was resumed. */
  onCopied?: () => void;
  onProgress?: (done: number, total: number, secondsLeft: number | null) => void;
}

export interface BackupRunResult {
  snapshotId: string;
  takenAt: number;
  pausedMs: number;
  totalBytes: number;
  bytesAdded: number;
  manifest: BackupManifest;
}

/** A short name for this run's copies on the device (`<volume>.img.<tag>`). */
export const copyTag = (now: number) => `b${now.toString(36)}`;

export async function takeBackup(
  deps: BackupRunDeps,
  input: BackupRunInput,
): Promise<BackupRunResult> {
  const { device, restic, clock } = deps;
  const { spec, signal } = input;
  const appId = spec.appId;
  await device.removeStaleCopies(appId, { signal });
  const tag = copyTag(clock.now());
  const takenAt = clock.now();
  const snap = await device.snapshotVolumes(
    appId,
    spec.volumes.map((v) => v.name),
    tag,
    { signal },
  );
  input.onCopied?.();
  try {
    const imageBytes = await device.imageSize(appId, { signal });
    const total = snap.copies.reduce((sum, c) => sum + c.sizeBytes, 0) + imageBytes;
    const specText = `${JSON.stringify(spec)}\n`;
    const streams: { done: Promise<unknown> }[] = [];
    const open = (which: Parameters<DeviceClient['readFileStream']>[1]): Readable => {
      const s = device.readFileStream(appId, which, { signal });
      streams.push(s);
      return s.stdout;
    };
    const members: TarMember[] = [
      ...snap.copies.map((c) => ({
        name: volumeMember(c.volume),
        size: c.sizeBytes,
        open: () => open({ copy: c.path }),
      })),
      { name: imageMember(spec.sha256), size: imageBytes, open: () => open({ image: 'current' }) },
      { name: SPEC_FILE, content: Buffer.from(specText) },
    ];
    let manifest: BackupManifest | null = null;
    const packed = packBackup(members, (hashes) => {
      manifest = {
        format: BACKUP_FORMAT,
        deviceId: input.deviceId,
        appId,
        appName: spec.name,
        appVersion: spec.version,
        takenAt,
        pausedMs: snap.pausedMs,
        volumes: snap.copies.map((c) => ({
          name: c.volume,
          sizeBytes: c.sizeBytes,
          sha256: hashes.get(volumeMember(c.volume))!,
        })),
        image: { sha256: hashes.get(imageMember(spec.sha256))!, sizeBytes: imageBytes },
      };
      if (manifest.image.sha256 !== spec.sha256) throw new HearthError('DEVICE_GARBLED');
      return { name: MANIFEST_FILE, content: Buffer.from(`${JSON.stringify(manifest)}\n`) };
    });
    const started = clock.now();
    const saved = await restic.backupStream(packed, {
      filename: snapshotFile(appId),
      host: snapshotHost(input.deviceId),
      tags: pointTags({
        appId,
        appName: spec.name,
        appVersion: spec.version,
        sizeBytes: total,
        volumes: snap.copies.map((c) => c.volume),
      }),
      signal,
      onProgress: ({ bytesDone, secondsRemaining }) => {
        const done = Math.min(bytesDone, total);
        const elapsed = (clock.now() - started) / 1000;
        const estimate =
          secondsRemaining ?? (done > 0 && elapsed > 1 ? ((total - done) * elapsed) / done : null);
        input.onProgress?.(done, total, estimate);
      },
    });
    // Every device stream must have ended cleanly too (cat's exit status), or restic's clean EOF
    // came from a stream that stopped early: refuse such a snapshot.
    await Promise.all(streams.map((s) => s.done));
    if (!manifest) throw new HearthError('BACKUP_FAILED');
    return {
      snapshotId: saved.snapshotId,
      takenAt,
      pausedMs: snap.pausedMs,
      totalBytes: total,
      bytesAdded: saved.bytesAdded,
      manifest,
    };
  } finally {
    await device.removeVolumeCopies(appId, tag).catch((error: unknown) => {
      deps.log.warn({ err: error, appId }, 'the copies of a backup could not be removed yet');
    });
  }
}
