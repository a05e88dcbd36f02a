// "Keep a copy on the Kitchen Pi": backups of an app to another Hearth device, which the app's
// own device takes on its own timer, so they happen while the laptop is closed. This is the
// laptop's part: it sets both devices up, reads what the device's timer did, lists the points
// in time, and restores one. Every command is the device contract's (device/peer-backups.ts).
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import type { BackupManifest } from './backup-format';
import { isBackupInterval } from '../device/agent-protocol';
import type { PeerBackupStatus, PeerSession } from '../device/peer-backups';
import {
  allowPeer,
  commitRestore,
  consoleSize,
  dropRestore,
  ensureSourceKey,
  fetchPeerSnapshot,
  initPeerRepository,
  listPeerSnapshots,
  readPeerStatus,
  restoredHealth,
  rollBackRestore,
  runPeerBackupNow,
  schedulePeerBackups,
  setTarget,
  startApp,
  swapInRestored,
  trustTarget,
  verifyRestored,
} from '../device/peer-backups';

/** A device as the use case needs it: its session as the hearth account, and its Hearth id. */
export interface PeerDevice {
  readonly session: PeerSession;
  readonly deviceId: DeviceId;
}

/** The target, with what Hearth knows of it (its DeviceRecord). */
export interface PeerTargetDevice extends PeerDevice {
  readonly record: {
    readonly hostKeyFingerprint: string;
    readonly addresses: readonly string[];
    readonly sshPort: number;
  };
}

export interface ConfigurePeerOptions {
  appId: AppId;
  /** The laptop repository's password, so one recovery kit opens both repositories. */
  password: string;
  /** 24 = daily; any whole number of hours dividing a day, or minutes dividing an hour (1/60). */
  everyHours: number;
  signal?: AbortSignal;
}

export interface PeerConfigured {
  /** The target's account for the source (hb-…). */
  account: string;
  /** The address the source reaches the target at (its host key verified there). */
  address: string;
  repository: 'created' | 'exists';
  everyMinutes: number;
}

function minutesOf(everyHours: number): number {
  const minutes = Math.round(everyHours * 60);
  if (!Number.isFinite(everyHours) || !isBackupInterval(minutes))
    throw new HearthError(
      'INVALID_INPUT',
      'Choose how often to back up: every 1, 2, 3, 4, 6, 8, 12 or 24 hours.',
    );
  return minutes;
}

/**
 * Sets up backups of one app from `source` to `target`: the target lets the source's own key in
 * (SFTP in its own folder only), the source trusts the target's host key only where it is the
 * one Hearth knows, keeps the password, opens (or makes) the repository, and starts its timer.
 * Running it again changes nothing that is already right.
 */
export async function configurePeer(
  source: PeerDevice,
  target: PeerTargetDevice,
  options: ConfigurePeerOptions,
): Promise<PeerConfigured> {
  const everyMinutes = minutesOf(options.everyHours);
  if (source.deviceId === target.deviceId)
    throw new HearthError(
      'INVALID_INPUT',
      'Choose another device than the app’s own to keep the copy.',
    );
  const o = options.signal ? { signal: options.signal } : {};
  const key = await ensureSourceKey(source.session, o);
  const account = await allowPeer(target.session, source.deviceId, key, o);
  let lastError: unknown = new HearthError('DEVICE_UNREACHABLE');
  let address: string | null = null;
  for (const candidate of target.record.addresses) {
    try {
      await trustTarget(
        source.session,
        {
          id: target.deviceId,
          hostKeyFingerprint: target.record.hostKeyFingerprint,
          address: candidate,
          sshPort: target.record.sshPort,
        },
        o,
      );
      address = candidate;
      break;
    } catch (error) {
      lastError = error;
      // A key that is not the target's is never tried elsewhere as if it were a bad address.
      if (error instanceof HearthError && error.code === 'HOST_KEY_CHANGED') throw error;
    }
  }
  if (address === null) throw lastError;
  await setTarget(
    source.session,
    source.deviceId,
    options.appId,
    {
      id: target.deviceId,
      hostKeyFingerprint: target.record.hostKeyFingerprint,
      address,
      sshPort: target.record.sshPort,
    },
    options.password,
    o,
  );
  const repository = await initPeerRepository(source.session, options.appId, o);
  await schedulePeerBackups(source.session, options.appId, everyMinutes, o);
  return { account, address, repository, everyMinutes };
}

/** Stops the source's timer for the app; the backups already taken stay on the target. */
export async function disablePeer(source: PeerDevice, appId: AppId): Promise<void> {
  await schedulePeerBackups(source.session, appId, null);
}

/** Runs the source's backup to its peer now, as its timer would. */
export function backUpToPeerNow(source: PeerDevice, appId: AppId, signal?: AbortSignal) {
  return runPeerBackupNow(source.session, appId, signal ? { signal } : {});
}

/** What the source's timer last did (null: it never ran). */
export function peerStatus(source: PeerDevice, appId: AppId): Promise<PeerBackupStatus | null> {
  return readPeerStatus(source.session, appId);
}

/** The points in time on the target for this app from this device, newest first. */
export function peerPoints(source: PeerDevice, appId: AppId) {
  return listPeerSnapshots(source.session, source.deviceId, appId);
}

export interface RestoreDeps {
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** How long the app may take to be healthy on the restored data. */
  healthTimeoutMs?: number;
  onStep?: (step: 'fetch' | 'verify' | 'swap' | 'start' | 'healthy' | 'rolled-back') => void;
  /**
   * The app's own health check (an HTTP or TCP probe from the laptop, as the installer's health
   * wait makes it), asked once the unit runs; without one, the console health pattern decides.
   */
  healthy?: () => Promise<boolean>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Restores one snapshot on the source device itself: downloaded there from the target and
 * unpacked into the app's restore folder, each volume's sha256 checked on the device against the
 * manifest, then the app stopped and the volumes swapped in by rename, the old ones kept until
 * the app is healthy on the restored data, and put back (and the app started again) if not.
 */
export async function restoreFromPeer(
  source: PeerDevice,
  appId: AppId,
  snapshotId: string,
  deps: RestoreDeps = {},
): Promise<BackupManifest> {
  const sleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? Date.now;
  const step = deps.onStep ?? (() => undefined);
  step('fetch');
  const manifest = await fetchPeerSnapshot(source.session, source.deviceId, appId, snapshotId);
  step('verify');
  if (!(await verifyRestored(source.session, appId, manifest))) {
    await dropRestore(source.session, appId);
    throw new HearthError('RESTORE_CHECKSUM_MISMATCH');
  }
  const offset = await consoleSize(source.session, appId);
  step('swap');
  try {
    await swapInRestored(source.session, appId, manifest);
  } catch (error) {
    // A swap that stopped part-way is undone and the app started again on its own data.
    await rollBackRestore(source.session, appId, manifest).catch(() => undefined);
    await startApp(source.session, appId).catch(() => undefined);
    throw error;
  }
  step('start');
  let healthy = false;
  try {
    await startApp(source.session, appId);
    const until = now() + (deps.healthTimeoutMs ?? 120_000);
    while (now() < until) {
      let health = await restoredHealth(source.session, appId, offset);
      if (health === 'healthy' && deps.healthy && !(await deps.healthy())) health = 'waiting';
      if (health === 'healthy') {
        healthy = true;
        break;
      }
      if (health === 'failed') break;
      await sleep(1_000);
    }
  } catch {
    healthy = false;
  }
  if (healthy) {
    step('healthy');
    await commitRestore(source.session, appId, manifest);
    return manifest;
  }
  try {
    await rollBackRestore(source.session, appId, manifest);
  } finally {
    await startApp(source.session, appId).catch(() => undefined);
  }
  step('rolled-back');
  throw new HearthError('RESTORE_NOT_HEALTHY');
}
