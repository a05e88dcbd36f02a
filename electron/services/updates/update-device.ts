// What an update asks of the app's device, as one narrow port: the transaction is tested
// against the real device script run locally (update-transaction.test.ts), and runs against
// a real device through deviceUpdatePort below.
import type { AppId } from '../../../shared/ids';
import type { DeviceRecord } from '../../../shared/model';
import type { AppFile, DeviceClient } from '../device/device-client';
import type { RawAppStatus } from '../device/app-status-report';
import type { DeviceUpdateStatus } from '../device/update-steps';
import {
  beginUpdate,
  commitUpdate,
  forgetUpdateOutcome,
  goBackUpdate,
  recoverUpdate,
  rollBackUpdate,
  snapshotForUpdate,
  switchUpdate,
  updateStatus,
} from '../device/update-steps';
import type { AppSpec } from '../apps/app-spec';
import { parseAppSpec } from '../apps/app-spec';
import type { HealthWaitDeps } from '../apps/health-wait';
import { waitHealthy } from '../apps/health-wait';
import type { AppOrigin } from '../device/device-client';

export type Settled = 'none' | 'discarded' | 'rolled-back' | 'committed' | 'went-back';

export interface UpdateDevice {
  origin(appId: AppId): Promise<AppOrigin | null>;
  /** spec.json as the device holds it now, or null. */
  spec(appId: AppId): Promise<AppSpec | null>;
  placeImage(
    appId: AppId,
    sha256: string,
    localPath: string,
    o: { signal: AbortSignal; onProgress: (done: number, total: number) => void },
  ): Promise<void>;
  imagesIntact(appId: AppId, hashes: string[], signal: AbortSignal): Promise<boolean>;
  begin(appId: AppId, id: string, toSha: string, signal: AbortSignal): Promise<{ fromSha: string }>;
  stop(appId: AppId): Promise<void>;
  snapshot(appId: AppId, signal: AbortSignal): Promise<void>;
  writeFiles(appId: AppId, files: readonly AppFile[], signal: AbortSignal): Promise<void>;
  switchTo(appId: AppId, signal: AbortSignal): Promise<void>;
  /**
   * "Sleep when idle" on (its socket and proxy units written again from its files, and it is
   * put to sleep) or off (the units go; it starts at boot and now), as the app's card sets it.
   */
  sleep(appId: AppId, on: boolean, signal: AbortSignal): Promise<void>;
  /** Starts it (also a unit systemd gave up on); a running app is left running. */
  start(appId: AppId): Promise<void>;
  /** True once its health probe passes within `ms`; false when it does not. */
  healthy(spec: AppSpec, ms: number, signal: AbortSignal): Promise<boolean>;
  unitStatus(appId: AppId): Promise<RawAppStatus | null>;
  commit(appId: AppId): Promise<void>;
  rollBack(appId: AppId): Promise<Settled>;
  recover(appId: AppId): Promise<Settled>;
  goBack(appId: AppId, data: 'now' | 'before', id: string): Promise<void>;
  status(appId: AppId): Promise<DeviceUpdateStatus>;
  told(appId: AppId): Promise<void>;
}

/** The port over a connected device. */
export function deviceUpdatePort(
  client: DeviceClient,
  device: DeviceRecord,
  health: HealthWaitDeps,
): UpdateDevice {
  const s = client.session;
  return {
    origin: (appId) => client.origin(appId),
    spec: async (appId) => {
      const text = await client.readSpecText(appId);
      return text === null ? null : parseAppSpec(text);
    },
    placeImage: async (appId, sha256, localPath, o) => {
      await client.placeImage(appId, sha256, localPath, o);
    },
    imagesIntact: (appId, hashes, signal) => client.imagesIntact(appId, hashes, { signal }),
    begin: (appId, id, toSha, signal) => beginUpdate(s, appId, id, toSha, { signal }),
    stop: (appId) => client.control(appId, 'stop'),
    snapshot: (appId, signal) => snapshotForUpdate(s, appId, { signal }),
    writeFiles: (appId, files, signal) => client.writeAppFiles(appId, files, { signal }),
    switchTo: (appId, signal) => switchUpdate(s, appId, { signal }),
    sleep: (appId, on, signal) => client.setSleep(appId, on, { signal }),
    start: (appId) => client.control(appId, 'start'),
    healthy: (spec, ms, signal) => waitHealthy(health, client, device, spec, ms, signal),
    unitStatus: (appId) => client.unitStatus(appId),
    commit: (appId) => commitUpdate(s, appId),
    rollBack: (appId) => rollBackUpdate(s, appId),
    recover: (appId) => recoverUpdate(s, appId),
    goBack: (appId, data, id) => goBackUpdate(s, appId, data, id),
    status: (appId) => updateStatus(s, appId),
    told: (appId) => forgetUpdateOutcome(s, appId),
  };
}
