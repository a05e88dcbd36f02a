// One backup of one app, start to end: stale copies of a killed run removed, the volumes copied
// on the device while the app is paused for just that moment, the copies (and the image and
// spec.json, so a new device can be given the app) streamed as one tar into restic, and the
// copies removed whatever happens. The device resumes the app by itself if this laptop dies.
// When the copies hold exactly the last point's data (backup-unchanged.ts), nothing is streamed
// and no snapshot is made: the run ends as "unchanged since" that point. restic opens the
// repository (a key derivation, most of a second) while the device still copies: the device
// reports the pause as soon as the app runs again, and the tags need nothing more.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { HearthError } from '../../../shared/errors';
import type { AppSpec } from '../apps/app-spec';
import type { Clock } from '../clock';
import type { DeviceClient, SnapshotResult } from '../device/device-client';
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
import type { LastPoint } from './backup-state';
import type { BackupMember } from './backup-tar';
import { packBackup } from './backup-tar';
import { mayBeUnchanged, unchangedSinceLastPoint } from './backup-unchanged';
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
  /** The newest point an earlier run saved (the app's backup state); none: a full run. */
  previous?: LastPoint | null;
  /** The app runs again: its data is copied and it was resumed. */
  onCopied?: () => void;
  onProgress?: (done: number, total: number, secondsLeft: number | null) => void;
}

export interface BackupRunResult {
  /** The point that holds this run's data: the new snapshot, or the last one if unchanged. */
  snapshotId: string;
  /** When the app was paused for this run's copy: the moment this run vouches for. */
  takenAt: number;
  pausedMs: number;
  totalBytes: number;
  bytesAdded: number;
  /** Set when the data was the last point's: no snapshot was made, nothing was streamed. */
  unchangedSince: { snapshotId: string; takenAt: number } | null;
  /** What the next run compares its copies with (to keep in the app's backup state). */
  lastPoint: LastPoint;
  /** The new snapshot's manifest; null when unchanged. */
  manifest: BackupManifest | null;
}

/** A short name for this run's copies on the device (`<volume>.img.<tag>`). */
export const copyTag = (now: number) => `b${now.toString(36)}`;

/** What the run needs of the image (and initrd) on the device, checked against spec.json. */
async function checkImages(device: DeviceClient, spec: AppSpec, signal: AbortSignal) {
  const image = await device.imageSize(spec.appId, { signal });
  // The image on the device must be the one spec.json names, or the app is not as Hearth left it.
  if (!image || image.sha256 !== spec.sha256) throw new HearthError('DEVICE_GARBLED');
  // An app that boots with an initrd keeps it beside the image: a new device needs both.
  const initrd = spec.initrdSha256
    ? {
        sha256: spec.initrdSha256,
        sizeBytes: await device.imageFileSize(spec.appId, spec.initrdSha256, { signal }),
      }
    : null;
  if (initrd && initrd.sizeBytes === null) throw new HearthError('DEVICE_GARBLED');
  return { image, initrd: initrd && { sha256: initrd.sha256, sizeBytes: initrd.sizeBytes ?? 0 } };
}

const ignore = () => undefined;

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
  // The device's copy, the image checks and restic's start overlap: restic starts as soon as the
  // device says the app runs again, and its input waits for the copies to be whole. Copies that
  // may be the last point's are hashed first (below), as restic may then not be needed at all.
  let onResumed: (report: SnapshotResult) => void = ignore;
  const resumed = new Promise<SnapshotResult>((resolve) => (onResumed = resolve));
  // An app that keeps no data still has its image and spec backed up (a new device needs them).
  const copying: Promise<SnapshotResult> =
    spec.volumes.length === 0
      ? Promise.resolve({ copies: [], pausedMs: 0, wasRunning: false })
      : device.snapshotVolumes(
          appId,
          spec.volumes.map((v) => v.name),
          tag,
          { signal, onResumed: (report) => onResumed(report) },
        );
  const checking = checkImages(device, spec, signal);
  // Each is awaited below; these only keep one that fails early from going unhandled.
  copying.catch(ignore);
  checking.catch(ignore);
  try {
    const pause = await Promise.race([resumed, copying]);
    const { image, initrd } = await checking;
    const imageBytes = image.sizeBytes;
    const initrdBytes = initrd?.sizeBytes ?? 0;
    const total = pause.copies.reduce((sum, c) => sum + c.sizeBytes, 0) + imageBytes + initrdBytes;
    const specText = `${JSON.stringify(spec)}\n`;
    const specSha256 = createHash('sha256').update(specText).digest('hex');
    const copied = copying.then((snap) => {
      input.onCopied?.();
      // The early report gave the tags their sizes: the copies must be what it said.
      if (snap.copies.some((c, i) => c.sizeBytes !== pause.copies[i]?.sizeBytes))
        throw new HearthError('DEVICE_GARBLED');
      return snap;
    });
    copied.catch(ignore);
    const previous = input.previous;
    // Copies that may hold the last point's data are waited for and hashed before restic is
    // asked anything (the check lists the repository's points, one restic command at a time).
    if (
      previous &&
      mayBeUnchanged({ previous, copies: pause.copies, imageSha256: image.sha256, specSha256 }) &&
      (await unchangedSinceLastPoint({
        device,
        restic,
        log: deps.log,
        deviceId: input.deviceId,
        appId,
        tag,
        previous,
        copies: (await copied).copies,
        imageSha256: image.sha256,
        specSha256,
        signal,
      }))
    ) {
      input.onProgress?.(total, total, 0);
      return {
        snapshotId: previous.snapshotId,
        takenAt,
        pausedMs: pause.pausedMs,
        totalBytes: total,
        bytesAdded: 0,
        unchangedSince: { snapshotId: previous.snapshotId, takenAt: previous.takenAt },
        lastPoint: previous,
        manifest: null,
      };
    }
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
      done.catch(ignore);
      return s.stdout;
    };
    let snapCopies: SnapshotResult['copies'] = [];
    async function* members(): AsyncGenerator<BackupMember> {
      // A copy that fails throws here: the tar fails, so restic never sees a clean end.
      const snap = await copied;
      snapCopies = snap.copies;
      for (const c of snap.copies)
        yield { name: volumeMember(c.volume), size: c.sizeBytes, stream: open({ copy: c.path }) };
      yield {
        name: imageMember(spec.sha256),
        size: imageBytes,
        stream: open({ image: 'current' }),
      };
      if (initrd)
        yield {
          name: imageMember(initrd.sha256),
          size: initrdBytes,
          stream: open({ image: initrd.sha256 }),
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
        volumes: snapCopies.map((c) => ({
          name: c.volume,
          sizeBytes: c.sizeBytes,
          sha256: sha(volumeMember(c.volume)),
        })),
        image: { sha256: sha(imageMember(spec.sha256)), sizeBytes: imageBytes },
        ...(initrd
          ? { initrd: { sha256: sha(imageMember(initrd.sha256)), sizeBytes: initrdBytes } }
          : {}),
      };
      // The image (and initrd) on the device must still be the ones spec.json names.
      if (made.image.sha256 !== spec.sha256 || (initrd && made.initrd?.sha256 !== initrd.sha256))
        throw new HearthError('DEVICE_GARBLED');
      manifest = made;
      return made;
    });
    const started = clock.now();
    const saving = restic.backupStream(packed, {
      filename: snapshotFile(appId),
      host: snapshotHost(input.deviceId),
      tags: pointTags({
        appId,
        appName: spec.name,
        appVersion: spec.version,
        sizeBytes: total,
        volumes: pause.copies.map((c) => c.volume),
        takenAt,
        pausedMs: pause.pausedMs,
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
    const saved = await saving;
    const snap = await copied;
    // Every device stream ended cleanly (cat's exit status) or the tar would have failed; a
    // failure noticed only now means the snapshot cannot be trusted: it is forgotten.
    let made: BackupManifest;
    try {
      await Promise.all(streams);
      if (!manifest) throw new HearthError('BACKUP_FAILED');
      made = manifest;
    } catch (error) {
      await restic.forgetIds([saved.snapshotId]).catch(ignore);
      throw error;
    }
    const identities = new Map(snap.copies.map((c) => [c.volume, c.identity]));
    return {
      snapshotId: saved.snapshotId,
      takenAt,
      pausedMs: snap.pausedMs,
      totalBytes: total,
      bytesAdded: saved.bytesAdded,
      unchangedSince: null,
      lastPoint: {
        snapshotId: saved.snapshotId,
        takenAt,
        imageSha256: made.image.sha256,
        specSha256,
        volumes: made.volumes.map((v) => ({ ...v, identity: identities.get(v.name) ?? null })),
      },
      manifest: made,
    };
  } finally {
    // The device's copy has ended before its copies go (its worker holds their lock until then),
    // even when restic or the image checks failed first.
    await copying.catch(ignore);
    await checking.catch(ignore);
    await device.removeVolumeCopies(appId, tag).catch((error: unknown) => {
      deps.log.warn({ err: error, appId }, 'the copies of a backup could not be removed yet');
    });
  }
}
