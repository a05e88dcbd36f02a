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
import type { RestoreDeps } from './restore-run';
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

export async function findPoint(restic: Restic, request: InvokeRequest<'backups:restore'>) {
  const points = toPoints(await restic.snapshots({ tags: ['hearth'] }));
  const point = points.find((p) => p.id === request.pointId || p.id.startsWith(request.pointId));
  if (!point || point.appId !== request.appId || point.deviceId !== request.deviceId)
    throw new HearthError('NOT_FOUND', 'That backup is no longer in your backups.');
  return point;
}

export function runRestoreTask(
  deps: RestoreTaskDeps,
  input: {
    request: InvokeRequest<'backups:restore'>;
    known: KnownApp | null;
    restic: Restic;
    release: () => void;
  },
) {
  const { request, known, restic } = input;
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
        const point: BackupPoint = await findPoint(restic, request);
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
          const f = await fetchPoint(client, restic, {
            appId,
            sourceAppId: point.appId,
            snapshotId: point.id,
            tag,
            withImage: !inPlace,
            signal: ctx.signal,
            onProgress: (bytes) => {
              ctx.progress(bytes, point.sizeBytes, 'bytes');
              ctx.detail(
                `Bringing back ${point.appName}: ${formatBytes(bytes)} of ${formatBytes(point.sizeBytes)}`,
              );
            },
          });
          return { value: f, note: `${formatBytes(point.sizeBytes)} arrived.` };
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
