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
  SPEC_FILE,
  imageMember,
  pointTags,
  snapshotFile,
  snapshotHost,
  volumeMember,
} from './backup-format';
import type { BackupManifest } from './backup-format';
import type { BackupMember } from './backup-tar';
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
  // An app that keeps no data still has its image and spec backed up (a new device needs them).
  const snap =
    spec.volumes.length === 0
      ? { copies: [], pausedMs: 0, wasRunning: false }
      : await device.snapshotVolumes(
          appId,
          spec.volumes.map((v) => v.name),
          tag,
          { signal },
        );
  input.onCopied?.();
  try {
    const image = await device.imageSize(appId, { signal });
    // The image on the device must be the one spec.json names, or the app is not as Hearth left it.
    if (!image || image.sha256 !== spec.sha256) throw new HearthError('DEVICE_GARBLED');
    const imageBytes = image.sizeBytes;
    const total = snap.copies.reduce((sum, c) => sum + c.sizeBytes, 0) + imageBytes;
    const specText = `${JSON.stringify(spec)}\n`;
    const streams: Promise<unknown>[] = [];
    // Each file is opened only when the tar reaches it; a device stream that fails (the link
    // cut, cat's non-zero exit) destroys its member, so restic never sees a clean end.
    const open = (which: Parameters<DeviceClient['readFileStream']>[1]): Readable => {
      const s = device.readFileStream(appId, which, { signal });
      const done = s.done.catch((error: unknown) => {
        s.stdout.destroy(error instanceof Error ? error : new Error(String(error)));
        throw error;
      });
      streams.push(done);
      done.catch(() => undefined);
      return s.stdout;
    };
    async function* members(): AsyncGenerator<BackupMember> {
      for (const c of snap.copies)
        yield { name: volumeMember(c.volume), size: c.sizeBytes, stream: open({ copy: c.path }) };
      yield {
        name: imageMember(spec.sha256),
        size: imageBytes,
        stream: open({ image: 'current' }),
      };
      yield { name: SPEC_FILE, content: Buffer.from(specText) };
    }
    let manifest: BackupManifest | null = null;
    const packed = packBackup(members(), (hashes) => {
      const sha = (name: string) => hashes.find((m) => m.name === name)?.sha256 ?? '';
      const made: BackupManifest = {
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
          sha256: sha(volumeMember(c.volume)),
        })),
        image: { sha256: sha(imageMember(spec.sha256)), sizeBytes: imageBytes },
      };
      // The image on the device must still be the one spec.json names.
      if (made.image.sha256 !== spec.sha256) throw new HearthError('DEVICE_GARBLED');
      manifest = made;
      return made;
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
      expectedBytes: total,
      onProgress: ({ bytesDone, secondsRemaining }) => {
        const done = Math.min(bytesDone, total);
        const elapsed = (clock.now() - started) / 1000;
        const estimate =
          secondsRemaining ?? (done > 0 && elapsed > 1 ? ((total - done) * elapsed) / done : null);
        input.onProgress?.(done, total, estimate);
      },
    });
    // Every device stream ended cleanly (cat's exit status) or the tar would have failed; a
    // failure noticed only now means the snapshot cannot be trusted: it is forgotten.
    try {
      await Promise.all(streams);
      if (!manifest) throw new HearthError('BACKUP_FAILED');
    } catch (error) {
      await restic.forgetIds([saved.snapshotId]).catch(() => undefined);
      throw error;
    }
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
