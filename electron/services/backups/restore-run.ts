// Bringing a backup back onto a device. The tar comes out of restic as a stream; each volume
// goes straight to a temporary name on the device (never whole in this laptop's memory), the
// device hashes what it received, and only when every hash matches the manifest is anything
// swapped. The volume a restore replaces is kept until the app is healthy on the restored data,
// and put back if it is not.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord } from '../../../shared/model';
import { buildFor } from '../../../shared/runtimes';
import { appFiles } from '../apps/app-files';
import { sleepsWhenIdle } from '../apps/app-sleep';
import type { LauncherPort } from '../apps/app-ports';
import type { AppSpec } from '../apps/app-spec';
import { parseAppSpec } from '../apps/app-spec';
import type { Probe } from '../apps/health-probe';
import { waitHealthy } from '../apps/health-wait';
import type { Clock, Sleep } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { Logger } from '../logger';
import type { BackupManifest } from './backup-format';
import { SPEC_FILE, imageMember, snapshotPath, volumeMember } from './backup-format';
import { manifestMismatches, unpackBackup } from './backup-tar';
import type { Restic } from './restic';

export interface RestoreDeps {
  clock: Clock;
  sleep: Sleep;
  probe: Probe;
  launcher: LauncherPort;
  log: Logger;
}

/** How long a restored app may take to become ready (TCG boots are slow on small boards). */
export const RESTORED_READY_MS = 120_000;

export const restoreTag = (now: number) => `r${now.toString(36)}`;

export interface Fetched {
  manifest: BackupManifest;
  spec: AppSpec | null;
  /** The image, written to a private temporary folder on this computer, when asked for. */
  imagePath: string | null;
  /** Its initrd beside it, when the app boots with one (and the image was asked for). */
  initrdPath: string | null;
  /** Volumes now on the device under the restore tag, each verified against the manifest. */
  volumes: string[];
  cleanup: () => Promise<void>;
}

/** Where a point's tar comes from: this computer's restic, or a device that keeps the copy. */
export type PointDumper = Pick<Restic, 'dump'>;

/**
 * Streams a point out of restic onto the device: volumes into `appId`'s folder under `tag`
 * (verified), the image to a local temp file when `withImage`. Nothing live is touched.
 */
export async function fetchPoint(
  device: DeviceClient,
  restic: PointDumper,
  o: {
    appId: string;
    sourceAppId: string;
    snapshotId: string;
    tag: string;
    withImage: boolean;
    signal: AbortSignal;
    onProgress?: (bytes: number) => void;
  },
): Promise<Fetched> {
  const dir = o.withImage ? await mkdtemp(join(tmpdir(), 'hearth-restore-')) : null;
  const cleanup = async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const deviceHashes = new Map<string, string>();
    let specText: string | undefined;
    // Each image/<sha256> member (the image, an initrd) under its own name: the manifest, last,
    // says which is which.
    const images = new Map<string, string>();
    let moved = 0;
    const counted = (bytes: number) => {
      moved += bytes;
      o.onProgress?.(moved);
    };
    const tar = new PassThrough({ highWaterMark: 1024 * 1024 });
    const dumping = restic.dump(o.snapshotId, snapshotPath(o.sourceAppId), tar, {
      signal: o.signal,
    });
    dumping.catch((error: unknown) => tar.destroy(error as Error));
    const unpacked = await unpackBackup(tar, async (entry) => {
      const volume = /^volumes\/([a-z][a-z0-9-]{0,31})\.img$/.exec(entry.name)?.[1];
      if (volume) {
        entry.stream.on('data', (chunk: Buffer) => counted(chunk.length));
        // The size is known from the tar header: a device without room says so before a byte.
        const got = await device.receiveVolume(o.appId, volume, o.tag, entry.stream, {
          signal: o.signal,
          sizeBytes: entry.size,
        });
        deviceHashes.set(volume, got.sha256);
        return;
      }
      const image = entry.name.slice(imageMember('').length);
      if (dir && entry.name === imageMember(image) && /^[0-9a-f]{64}$/.test(image)) {
        images.set(image, join(dir, image));
        await pipeline(entry.stream, createWriteStream(join(dir, image), { mode: 0o600 }));
        return;
      }
      if (entry.name === SPEC_FILE) {
        specText = (await readSmall(entry.stream)).toString('utf8');
        return;
      }
      entry.stream.resume();
    });
    await dumping;
    const { manifest } = unpacked;
    if (manifestMismatches(manifest, unpacked.members).length > 0)
      throw new HearthError('RESTORE_CHECKSUM_MISMATCH');
    const laptopHash = (name: string) => unpacked.members.find((m) => m.name === name)?.sha256;
    for (const v of manifest.volumes) {
      const laptop = laptopHash(volumeMember(v.name));
      const onDevice = deviceHashes.get(v.name);
      if (laptop !== v.sha256 || onDevice !== v.sha256)
        throw new HearthError('RESTORE_CHECKSUM_MISMATCH');
    }
    // manifestMismatches checked every image member's hash against the manifest.
    const imagePath = images.get(manifest.image.sha256) ?? null;
    const initrdPath = manifest.initrd ? (images.get(manifest.initrd.sha256) ?? null) : null;
    return {
      manifest,
      spec: specText ? parseAppSpec(specText) : null,
      imagePath,
      initrdPath,
      volumes: manifest.volumes.map((v) => v.name),
      cleanup,
    };
  } catch (error) {
    await cleanup();
    await device.removeStaleCopies(o.appId).catch(() => undefined);
    throw error;
  }
}

/** A small member (spec.json) read whole; anything bigger is not what Hearth wrote. */
async function readSmall(stream: NodeJS.ReadableStream, max = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HearthError('BACKUP_DAMAGED');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Puts back every volume it can; false when one could not be (its own data stays on the device). */
async function putBackAll(device: DeviceClient, appId: string, volumes: string[], tag: string) {
  let all = true;
  for (const v of volumes) {
    try {
      await device.putBackVolume(appId, v, tag);
    } catch {
      all = false;
    }
  }
  return all;
}

/** Swaps verified volumes in; on any failure puts back the ones already swapped. */
async function swapAll(device: DeviceClient, appId: string, volumes: string[], tag: string) {
  const swapped: string[] = [];
  try {
    for (const v of volumes) {
      await device.swapInVolume(appId, v, tag);
      swapped.push(v);
    }
  } catch (error) {
    await putBackAll(device, appId, swapped.reverse(), tag);
    throw error;
  }
  return swapped;
}

const PUT_BACK_FAILED =
  'The app did not start with the restored data, and Hearth could not yet put all of its own data back. Nothing was deleted: its own data is kept on the device. Check that the device is reachable and try the restore again.';

/**
 * The app's own device: stop, swap, start, wait until ready; the replaced data is dropped only
 * then, and put back (and the app started on it) if the restored data does not come up.
 */
export async function restoreInPlace(
  deps: RestoreDeps,
  device: DeviceClient,
  record: DeviceRecord,
  spec: AppSpec,
  fetched: Fetched,
  tag: string,
  /** Called just before the app is stopped: from there on the restore runs to its end. */
  committing: () => void = () => undefined,
): Promise<void> {
  // From here on the owner's Cancel would leave the app half-restored: the swap and the health
  // wait run to their end (each is short or bounded).
  committing();
  const steady = new AbortController().signal;
  const volumes = fetched.volumes.filter((v) => spec.volumes.some((s) => s.name === v));
  await device.control(spec.appId, 'stop');
  const swapped = await swapAll(device, spec.appId, volumes, tag).catch(async (error: unknown) => {
    await device.enableAndRestart(spec.appId).catch(() => undefined);
    throw error;
  });
  // A start that fails at once is judged by the health wait below, like one that never gets ready.
  await device.enableAndRestart(spec.appId).catch(() => undefined);
  const healthy = await waitHealthy(deps, device, record, spec, RESTORED_READY_MS, steady).catch(
    () => false,
  );
  if (!healthy) {
    await device.control(spec.appId, 'stop').catch(() => undefined);
    const putBack = await putBackAll(device, spec.appId, swapped, tag);
    await device.enableAndRestart(spec.appId).catch(() => undefined);
    await backToSleep(device, spec);
    throw putBack
      ? new HearthError('RESTORE_NOT_HEALTHY')
      : new HearthError('RESTORE_NOT_HEALTHY', PUT_BACK_FAILED);
  }
  for (const v of swapped) await device.dropReplaced(spec.appId, v, tag).catch(() => undefined);
  await backToSleep(device, spec);
}

/**
 * A sleeping app was woken (its start is a wake) to prove the restored data; it sleeps again at
 * once, as before the restore. A failure only leaves it awake until its idle time ends.
 */
async function backToSleep(device: DeviceClient, spec: AppSpec): Promise<void> {
  if (spec.sleep) await device.setSleep(spec.appId, true).catch(() => undefined);
}

/**
 * Another device (the old one died), or a restore drill's scratch copy: the app is installed
 * under `appId` from the backup itself (its spec and image), with the restored volumes.
 */
export async function installFromPoint(
  deps: RestoreDeps,
  device: DeviceClient,
  record: DeviceRecord,
  fetched: Fetched,
  o: {
    appId: string;
    tag: string;
    /** For a drill: its own ports, no announcement. */
    adjust?: (spec: AppSpec) => AppSpec;
    signal: AbortSignal;
    /** Starts at every boot (a real restore) or only now (a drill). */
    enable: boolean;
  },
): Promise<AppSpec> {
  // An app that boots with an initrd needs it too (points taken before initrds were kept lack it).
  if (!fetched.spec || !fetched.imagePath || (fetched.spec.initrdSha256 && !fetched.initrdPath))
    throw new HearthError(
      'BACKUP_FAILED',
      'This backup does not hold the app itself, only its data. Install the app on the device first, then restore.',
    );
  // Installed awake (the health wait reaches its published port); a real restore lets it sleep
  // again at the end, a drill's scratch copy never sleeps.
  const { sleep, ...from } = fetched.spec;
  if (!buildFor([from.target], record)) throw new HearthError('APP_UNSUITABLE');
  const facts = await device.installFacts(o.appId, { signal: o.signal });
  let spec: AppSpec = {
    ...from,
    appId: o.appId,
    accel: record.hypervisor === 'kvm' && facts.kvmUsable ? 'kvm' : 'tcg',
    installedAt: new Date(deps.clock.now()).toISOString(),
  };
  if (o.adjust) spec = o.adjust(spec);
  await device.prepareAppFolder(o.appId, { signal: o.signal });
  if (!(await device.origin(o.appId, { signal: o.signal })))
    await device.setOrigin(o.appId, from.version.startsWith('file ') ? 'file' : 'catalog', {
      signal: o.signal,
    });
  await device.placeImage(o.appId, spec.sha256, fetched.imagePath, {
    signal: o.signal,
    onProgress: () => undefined,
  });
  if (spec.initrdSha256 && fetched.initrdPath)
    await device.placeImage(o.appId, spec.initrdSha256, fetched.initrdPath, {
      signal: o.signal,
      onProgress: () => undefined,
    });
  await swapAll(device, o.appId, fetched.volumes, o.tag);
  await device.writeAppFiles(o.appId, appFiles(deps.launcher, record, spec), { signal: o.signal });
  await device.switchCurrent(o.appId, spec.sha256, { signal: o.signal });
  if (o.enable) await device.enableAndRestart(o.appId, { signal: o.signal });
  else await device.control(o.appId, 'start');
  const healthy = await waitHealthy(deps, device, record, spec, RESTORED_READY_MS, o.signal);
  if (!healthy)
    throw new HearthError(
      'APP_NOT_READY',
      `${spec.name} was restored but did not become ready. Open its console to see what it says.`,
    );
  for (const v of fetched.volumes)
    await device.dropReplaced(o.appId, v, o.tag).catch(() => undefined);
  if (sleep && o.enable && sleepsWhenIdle({ ...spec, sleep })) {
    spec = { ...spec, sleep };
    await device.writeAppFiles(o.appId, appFiles(deps.launcher, record, spec), {
      signal: o.signal,
    });
    await device.setSleep(o.appId, true, { signal: o.signal });
  }
  return spec;
}
