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
  devices: { get(id: string): Promise<DeviceRecord> };
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
    return list.map((p) => ({
      ...p,
      appName: known.spec.name,
      sizeBytes: 0,
      volumes: known.spec.volumes.map((v) => v.name),
    }));
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
            summary: `${spec.name} is back as it was on ${when(manifest.takenAt)}.`,
          };
        } finally {
          release();
        }
      },
    );
  }
}
