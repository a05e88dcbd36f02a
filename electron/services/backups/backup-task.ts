// "Back up now" and the scheduled run, as a task: copy on the device, save into the repository,
// then look after the repository (old points forgotten, a part of it read back). The result,
// good or bad, is remembered for the Backups view and the schedule.
import { HearthError } from '../../../shared/errors';
import type { KnownApp } from '../apps/app-monitor';
import type { Clock } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { Logger } from '../logger';
import { Checklist } from '../tasks/checklist';
import type { TaskManager } from '../tasks/task-manager';
import { takeBackup } from './backup-run';
import type { BackupStateStore } from './backup-state';
import { formatBytes, progressDetail } from './backup-words';
import { careForRepository } from './repository-care';
import type { Restic } from './restic';
import { when } from './restore-task';

export interface BackupTaskDeps {
  tasks: TaskManager;
  state: BackupStateStore;
  client: (deviceId: string) => Promise<DeviceClient>;
  clock: Clock;
  log: Logger;
  publish: () => Promise<void>;
}

export const backupSteps = [
  'Copy its data on the device',
  'Save the copy in your backups',
  'Check the backups',
] as const;

/** A full read of the repository at most this often; a sample after every backup. */
const FULL_CHECK_EVERY_MS = 30 * 24 * 60 * 60_000;

export function runBackupTask(
  deps: BackupTaskDeps,
  input: { known: KnownApp; restic: Restic; release: () => void },
) {
  const { known, restic } = input;
  const { device, spec } = known;
  return deps.tasks.run(
    {
      kind: 'backup',
      title: `Backing up ${spec.name}`,
      steps: [...backupSteps],
      cancellable: true,
    },
    async (ctx) => {
      const list = new Checklist(ctx, backupSteps);
      try {
        const client = await deps.client(device.id);
        const before = await deps.state.app(device.id, spec.appId, deps.clock.now());
        let copied: (() => void) | undefined;
        const copiedOnce = new Promise<void>((resolve) => (copied = resolve));
        const running = takeBackup(
          { device: client, restic, clock: deps.clock, log: deps.log },
          {
            deviceId: device.id,
            spec,
            signal: ctx.signal,
            previous: before.lastPoint,
            onCopied: () => copied?.(),
            onProgress: (done, total, secondsLeft) => {
              ctx.progress(done, total, 'bytes');
              ctx.detail(progressDetail(spec.name, done, total, secondsLeft));
            },
          },
        );
        // Settled (and awaited below) even when a step throws first, e.g. on Cancel.
        running.catch(() => undefined);
        await list.step(async () => {
          await Promise.race([copiedOnce, running]);
          return { value: undefined, note: 'The app was paused only while its data was copied.' };
        });
        const result = await list.step(async () => {
          const r = await running;
          return {
            value: r,
            note: r.unchangedSince
              ? `Nothing changed since the backup of ${when(r.unchangedSince.takenAt)}: it still holds all of it. The app was paused for ${r.pausedMs} ms.`
              : `${formatBytes(r.totalBytes)} saved; ${formatBytes(r.bytesAdded)} of it new. The app was paused for ${r.pausedMs} ms.`,
          };
        });
        const now = deps.clock.now();
        const st = await deps.state.app(device.id, spec.appId, now);
        const full = st.lastFullCheckAt === null || now - st.lastFullCheckAt > FULL_CHECK_EVERY_MS;
        await deps.state.updateApp(device.id, spec.appId, now, (a) => {
          // An unchanged run counts too: its data was checked to be in the last point.
          a.lastBackupAt = result.takenAt;
          a.sizeBytes = result.totalBytes;
          a.lastPoint = result.lastPoint;
          a.lastError = null;
          a.lastFailureAt = null;
        });
        await deps.publish();
        const care = await list.step(async () => {
          const c = await careForRepository(restic, {
            deviceId: device.id,
            appId: spec.appId,
            fullCheck: full,
          });
          return {
            value: c,
            note: c.ok
              ? full
                ? 'Every part of your backups was read back and is whole.'
                : 'A sample of your backups was read back and is whole.'
              : c.sentence,
          };
        });
        await deps.state.updateApp(device.id, spec.appId, deps.clock.now(), (a) => {
          if (care.ok) {
            a.lastVerifiedAt = result.takenAt;
            if (full) a.lastFullCheckAt = deps.clock.now();
          } else {
            a.lastError = care.sentence;
            // A damaged repository is doubt enough: the next run saves everything again.
            a.lastPoint = null;
          }
        });
        if (!care.ok) throw new HearthError('BACKUP_DAMAGED', care.sentence);
        return {
          value: result,
          summary: result.unchangedSince
            ? `${spec.name} is backed up: nothing changed since ${when(result.unchangedSince.takenAt)}.`
            : `${spec.name} is backed up (${formatBytes(result.totalBytes)}).`,
        };
      } catch (error) {
        const cancelled = error instanceof HearthError && error.code === 'CANCELLED';
        // A cancelled run waits like a failed one before the schedule tries again, without an
        // error to show: the owner stopped it.
        if (cancelled)
          await deps.state
            .updateApp(device.id, spec.appId, deps.clock.now(), (a) => {
              a.lastFailureAt = deps.clock.now();
            })
            .catch(() => undefined);
        if (!cancelled) {
          const sentence =
            error instanceof HearthError ? error.message : new HearthError('BACKUP_FAILED').message;
          deps.log.warn({ err: error, appId: spec.appId }, 'a backup failed');
          await deps.state
            .updateApp(device.id, spec.appId, deps.clock.now(), (a) => {
              a.lastFailureAt = deps.clock.now();
              a.lastError ??= sentence;
              if (!(error instanceof HearthError && error.code === 'BACKUP_DAMAGED'))
                a.lastError = sentence;
            })
            .catch(() => undefined);
        }
        throw error instanceof HearthError
          ? error
          : new HearthError('BACKUP_FAILED', undefined, { cause: error });
      } finally {
        input.release();
      }
    },
  );
}
