// "Restore…" as a task: onto the app's own device (its data goes back to the point), or onto
// another device when the first is gone (the app is installed there from the backup itself).
import { HearthError } from '../../../shared/errors';
import type { InvokeRequest } from '../../../shared/ipc';
import type { BackupPoint, DeviceRecord } from '../../../shared/model';
import { freeAppId } from '../apps/app-id';
import type { AppMonitor, KnownApp } from '../apps/app-monitor';
import type { DeviceClient } from '../device/device-client';
import { Checklist } from '../tasks/checklist';
import type { TaskManager } from '../tasks/task-manager';
import { toPoints } from './backup-points';
import { formatBytes } from './backup-words';
import type { PointDumper, RestoreDeps } from './restore-run';
import { fetchPoint, installFromPoint, restoreInPlace, restoreTag } from './restore-run';
import type { Restic } from './restic';

export interface RestoreTaskDeps extends RestoreDeps {
  tasks: TaskManager;
  client: (deviceId: string) => Promise<DeviceClient>;
  devices: { get(id: string): Promise<DeviceRecord> };
  monitor: Pick<AppMonitor, 'refreshDevice' | 'appIdsOn'>;
  publish: () => Promise<void>;
}

export const restoreSteps = [
  'Bring the backup to the device',
  'Check that it arrived whole',
  'Put the data in place and start the app',
] as const;

export const when = (ms: number) =>
  new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The request's point among `points`, or NOT_FOUND (retention may have forgotten it). */
export function pickPoint(
  points: readonly BackupPoint[],
  request: InvokeRequest<'backups:restore'>,
) {
  const point = points.find((p) => p.id === request.pointId || p.id.startsWith(request.pointId));
  if (!point || point.appId !== request.appId || point.deviceId !== request.deviceId)
    throw new HearthError('NOT_FOUND', 'That backup is no longer in your backups.');
  return point;
}

/** Where a restore's point is: its list (to find it again) and the tar's source. */
export interface PointSource extends PointDumper {
  points(): Promise<BackupPoint[]>;
}

/** This computer's repository as a point source. */
export function resticSource(restic: Restic): PointSource {
  return {
    points: async () => toPoints(await restic.snapshots({ tags: ['hearth'] })),
    dump: (...args) => restic.dump(...args),
  };
}

export function runRestoreTask(
  deps: RestoreTaskDeps,
  input: {
    request: InvokeRequest<'backups:restore'>;
    known: KnownApp | null;
    from: PointSource;
    release: () => void;
  },
) {
  const { request, known, from } = input;
  const inPlace = known !== null;
  return deps.tasks.run(
    {
      kind: 'restore',
      title: `Restoring ${known?.spec.name ?? 'an app'}`,
      steps: [...restoreSteps],
      cancellable: true,
    },
    async (ctx) => {
      const list = new Checklist(ctx, restoreSteps);
      let installedHere = inPlace;
      let made: { client: DeviceClient; appId: string } | null = null;
      try {
        const point: BackupPoint = pickPoint(await from.points(), request);
        const record = await deps.devices.get(request.toDeviceId);
        const client = await deps.client(record.id);
        const appId = inPlace
          ? request.appId
          : freeAppId(
              point.appName,
              new Set([...deps.monitor.appIdsOn(record.id), ...(await client.appFolders())]),
            );
        await client.removeStaleCopies(appId, { signal: ctx.signal }).catch(() => undefined);
        // A new device: the app's folder is made first, and removed again if the restore stops.
        if (!inPlace) {
          await client.prepareAppFolder(appId, { signal: ctx.signal });
          made = { client, appId };
        }
        const tag = restoreTag(deps.clock.now());
        const fetched = await list.step(async () => {
          const f = await fetchPoint(client, from, {
            appId,
            sourceAppId: point.appId,
            snapshotId: point.id,
            tag,
            withImage: !inPlace,
            signal: ctx.signal,
            onProgress: (bytes) => {
              // A copy another device took may not say its size: then no share of a whole is
              // shown (a total of 0), only what has arrived.
              ctx.progress(bytes, point.sizeBytes, 'bytes');
              ctx.detail(
                point.sizeBytes > 0
                  ? `Bringing back ${point.appName}: ${formatBytes(bytes)} of ${formatBytes(point.sizeBytes)}`
                  : `Bringing back ${point.appName}: ${formatBytes(bytes)}`,
              );
            },
          });
          const arrived = f.manifest.volumes.reduce((n, v) => n + v.sizeBytes, 0);
          return { value: f, note: `${formatBytes(point.sizeBytes || arrived)} arrived.` };
        });
        try {
          await list.step(() =>
            Promise.resolve({
              value: undefined,
              note: 'The device’s copy matches the backup, byte for byte.',
            }),
          );
          await list.step(async () => {
            if (inPlace)
              await restoreInPlace(deps, client, record, known.spec, fetched, tag, () =>
                ctx.uncancellable(),
              );
            else
              await installFromPoint(deps, client, record, fetched, {
                appId,
                tag,
                signal: ctx.signal,
                enable: true,
              });
            return { value: undefined, note: `${point.appName} is running on the restored data.` };
          });
        } finally {
          await fetched.cleanup();
          await client.removeStaleCopies(appId).catch(() => undefined);
        }
        await deps.monitor.refreshDevice(record).catch(() => undefined);
        installedHere = true;
        return {
          value: { appId },
          summary: `${point.appName} is back as it was on ${when(point.takenAt)}.`,
        };
      } finally {
        // A restore onto a new device that did not finish leaves no half-installed app behind.
        if (!installedHere && made)
          await made.client.removeApp(made.appId, true).catch(() => undefined);
        input.release();
      }
    },
  );
}
