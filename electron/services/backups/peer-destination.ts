// An app whose copies go to another Hearth device: the laptop only sets it up, reads what the
// device's own timer did, lists its points and starts a restore; the copying, the repository and
// the restore itself happen on the devices (peer-backup.ts). The password is the laptop
// repository's, so one recovery kit opens both.
import { HearthError } from '../../../shared/errors';
import type { BackupPoint, BackupSchedule, DeviceRecord } from '../../../shared/model';
import type { KnownApp } from '../apps/app-monitor';
import { probeOnce } from '../apps/health-probe';
import type { Clock } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { Logger } from '../logger';
import { Checklist } from '../tasks/checklist';
import type { TaskManager } from '../tasks/task-manager';
import { heldCopyDumper, listHeldCopies } from '../device/peer-held';
import { revokePeer } from '../device/peer-backups';
import type { BackupRepository } from './backup-repository';
import type { BackupStateStore } from './backup-state';
import { formatBytes } from './backup-words';
import {
  backUpToPeerNow,
  configurePeer,
  disablePeer,
  peerPoints,
  peerStatus,
  restoreFromPeer,
} from './peer-backup';
import { when } from './restore-task';

export interface PeerDestinationDeps {
  client: (deviceId: string) => Promise<DeviceClient>;
  devices: { get(id: string): Promise<DeviceRecord>; list(): Promise<DeviceRecord[]> };
  repository: Pick<BackupRepository, 'password'>;
  state: BackupStateStore;
  tasks: TaskManager;
  clock: Clock;
  log: Logger;
  publish: () => Promise<void>;
}

/** The device timer takes whole hours dividing a day; anything else is rounded to one that does. */
export function peerHours(everyHours: number): number {
  const fits = [1, 2, 3, 4, 6, 8, 12, 24].filter((h) => h <= everyHours);
  return everyHours >= 24 ? 24 : (fits.at(-1) ?? 1);
}

export class PeerDestinations {
  readonly #deps: PeerDestinationDeps;

  constructor(deps: PeerDestinationDeps) {
    this.#deps = deps;
  }

  /** Sets up (or re-times) the source's backups onto `targetId`; off when the schedule is. */
  async configure(source: DeviceRecord, appId: string, targetId: string, schedule: BackupSchedule) {
    const client = await this.#deps.client(source.id);
    if (!schedule.enabled) {
      await disablePeer(client, appId);
      return;
    }
    const targetRecord = await this.#deps.devices.get(targetId);
    const target = await this.#deps.client(targetId);
    await configurePeer(
      client,
      { session: target.session, deviceId: targetId, record: targetRecord },
      {
        appId,
        password: await this.#deps.repository.password(),
        everyHours: peerHours(schedule.everyHours),
      },
    );
  }

  async disable(deviceId: string, appId: string): Promise<void> {
    await disablePeer(await this.#deps.client(deviceId), appId);
  }

  /** Reads what the device's timer last did into the state the Backups view shows. */
  async refresh(deviceId: string, appId: string): Promise<void> {
    const status = await peerStatus(await this.#deps.client(deviceId), appId);
    if (!status) return;
    await this.#deps.state.updateApp(deviceId, appId, this.#deps.clock.now(), (a) => {
      if (status.ok) {
        a.lastBackupAt = Math.max(a.lastBackupAt ?? 0, status.startedAt);
        a.sizeBytes = status.bytes;
        a.lastError = null;
        a.lastFailureAt = null;
      } else {
        a.lastFailureAt = status.finishedAt;
        a.lastError = status.sentence;
      }
    });
  }

  async points(known: KnownApp): Promise<BackupPoint[]> {
    const list = await peerPoints(await this.#deps.client(known.device.id), known.spec.appId);
    // Copies taken before the device's runs tagged their name and volumes say nothing of them;
    // the installed app's spec is the best the owner can be shown then.
    return list.map((p) => ({
      ...p,
      appName: p.appName === p.appId ? known.spec.name : p.appName,
      volumes: p.volumes.length > 0 ? p.volumes : known.spec.volumes.map((v) => v.name),
    }));
  }

  /**
   * Every copy kept on the other devices, read through each of them (the device a copy came from
   * may be dead), in no particular order. A device that cannot be reached now is left out, not an error:
   * the owner still sees every copy the others keep.
   */
  async heldPoints(): Promise<BackupPoint[]> {
    const password = await this.#deps.repository.password();
    const records = await this.#deps.devices.list();
    const lists = await Promise.all(
      records.map(async (record) => {
        try {
          const client = await this.#deps.client(record.id);
          const held = await listHeldCopies(client.session, password);
          if (held.unreadable.length > 0)
            this.#deps.log.warn(
              { deviceId: record.id, accounts: held.unreadable },
              'copies kept on this device that the backups password does not open',
            );
          return held.points
            .filter((p) => p.deviceId !== record.id)
            .map((p) => ({ ...p, appName: displayName(p), heldBy: record.id }));
        } catch (error) {
          this.#deps.log.warn({ err: error, deviceId: record.id }, 'copies kept there not read');
          return [];
        }
      }),
    );
    return lists.flat();
  }

  /** The tar of a copy `heldBy` keeps for `sourceId`, as a restore reads it (Restic.dump's shape). */
  async heldDumper(heldBy: string, sourceId: string) {
    const password = await this.#deps.repository.password();
    const client = await this.#deps.client(heldBy);
    return heldCopyDumper(client.session, sourceId, password);
  }

  /**
   * The owner no longer keeps copies of `sourceId`'s apps on `targetId`: the source's key no
   * longer gets in there. The copies already there stay, and can still be restored.
   */
  async stopKeeping(sourceId: string, targetId: string): Promise<void> {
    const target = await this.#deps.client(targetId);
    await revokePeer(target.session, sourceId);
  }

  backUpNow(known: KnownApp, target: string, release: () => void) {
    const { device, spec } = known;
    const steps = [`Copy its data to ${target}`] as const;
    return this.#deps.tasks.run(
      { kind: 'backup', title: `Backing up ${spec.name} to ${target}`, steps: [...steps] },
      async (ctx) => {
        try {
          const list = new Checklist(ctx, steps);
          const client = await this.#deps.client(device.id);
          await list.step(async () => {
            try {
              await backUpToPeerNow(client, spec.appId, ctx.signal);
            } finally {
              await this.refresh(device.id, spec.appId).catch(() => undefined);
              await this.#deps.publish();
            }
            return { value: undefined };
          });
          const st = await this.#deps.state.app(device.id, spec.appId, this.#deps.clock.now());
          return {
            value: null,
            summary: `${spec.name} is backed up on ${target} (${formatBytes(st.sizeBytes ?? 0)}).`,
          };
        } finally {
          release();
        }
      },
    );
  }

  restore(known: KnownApp, pointId: string, release: () => void) {
    const { device, spec } = known;
    const steps = [
      'Bring the backup from the other device',
      'Check that it arrived whole',
      'Put the data in place and start the app',
    ] as const;
    return this.#deps.tasks.run(
      // The restore runs on the device from the first step; it cannot be stopped half-way.
      { kind: 'restore', title: `Restoring ${spec.name}`, steps: [...steps], cancellable: false },
      async (ctx) => {
        try {
          const client = await this.#deps.client(device.id);
          const point = (await this.points(known)).find((p) => p.id === pointId);
          if (!point)
            throw new HearthError('NOT_FOUND', 'That backup is no longer on the other device.');
          const index = { fetch: 0, verify: 1, swap: 2 } as const;
          const manifest = await restoreFromPeer(client, spec.appId, point.id, {
            onStep: (step) => {
              if (step in index) {
                const i = index[step as keyof typeof index];
                if (i > 0) ctx.step(i - 1, 'done');
                ctx.step(i, 'running');
                ctx.progress(i, steps.length);
              }
            },
            healthy: () => probeOnce(client, device, spec, null),
          });
          ctx.step(2, 'done');
          ctx.progress(steps.length, steps.length);
          return {
            value: { appId: spec.appId },
            summary: `${spec.name} is back as it was on ${when(manifest.takenAt ?? point.takenAt)}.`,
          };
        } finally {
          release();
        }
      },
    );
  }
}

/** A copy taken on its device may not carry the app's name: its id, as a name, stands in. */
function displayName(point: BackupPoint): string {
  if (point.appName !== point.appId) return point.appName;
  return point.appId.charAt(0).toUpperCase() + point.appId.slice(1).replaceAll('-', ' ');
}
