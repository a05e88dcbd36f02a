// The restore drill: the newest backup restored into a scratch copy of the app on its own
// device, booted, health-checked, and removed. It proves what a real restore needs (the tar,
// every hash, the image, the app booting on that data) without touching the running app.
import { HearthError } from '../../../shared/errors';
import type { KnownApp } from '../apps/app-monitor';
import type { AppSpec } from '../apps/app-spec';
import { parseAppSpec } from '../apps/app-spec';
import type { DeviceClient } from '../device/device-client';
import type { Logger } from '../logger';
import { Checklist } from '../tasks/checklist';
import type { TaskManager } from '../tasks/task-manager';
import { snapshotHost, snapshotPath } from './backup-format';
import { toPoints } from './backup-points';
import type { BackupStateStore } from './backup-state';
import type { RestoreDeps } from './restore-run';
import { fetchPoint, installFromPoint, restoreTag } from './restore-run';
import type { Restic } from './restic';
import { when } from './restore-task';

export interface DrillDeps extends RestoreDeps {
  tasks: TaskManager;
  state: BackupStateStore;
  client: (deviceId: string) => Promise<DeviceClient>;
  log: Logger;
  publish: () => Promise<void>;
}

export const drillSteps = [
  'Restore the newest backup into a scratch copy',
  'Start the scratch copy and check it',
  'Remove the scratch copy',
] as const;

/** The scratch copy's id: the app's, marked, within the short-name limit. */
export const drillAppId = (appId: string) => `${appId.slice(0, 25)}-drill`;

const SCRATCH_MARK = '(restore check)';

/**
 * A drill's scratch copy, seen by the app monitor while the drill runs: it is no app of the
 * owner's, so it has no backups of its own (the schedule would store a point of it, listed
 * later as the backups of an app no device has) and no card in the Backups view.
 */
export const isScratchCopy = (app: { appId: string; name: string }) =>
  app.appId.endsWith('-drill') && app.name.endsWith(SCRATCH_MARK);

/**
 * Removes the scratch copy, and only a scratch copy: a folder under that id whose spec.json
 * names another app (an app the owner called "Counter drill") is never touched.
 */
async function removeScratch(client: DeviceClient, scratch: string): Promise<void> {
  const text = await client.readSpecText(scratch);
  const spec = text === null ? null : parseAppSpec(text);
  if (text !== null && !spec?.name.endsWith(SCRATCH_MARK))
    throw new HearthError(
      'APP_ID_TAKEN',
      `Another app on this device uses the name the restore check needs (${scratch}), so the check did not run.`,
    );
  await client.removeApp(scratch, true);
}

/** Its own host ports (the real app keeps its own), and no announcement on the network. */
export function drillSpec(spec: AppSpec, base = 47_000): AppSpec {
  return {
    ...spec,
    name: `${spec.name.slice(0, 64 - SCRATCH_MARK.length - 1)} ${SCRATCH_MARK}`,
    ports: spec.ports.map((p, i) => ({
      name: p.name,
      guest: p.guest,
      host: base + ((p.host + i) % 1000),
      protocol: p.protocol,
    })),
  };
}

export function runDrillTask(
  deps: DrillDeps,
  input: { known: KnownApp; restic: Restic; release: () => void },
) {
  const { known, restic } = input;
  const { device: record, spec } = known;
  return deps.tasks.run(
    {
      kind: 'drill',
      title: `Checking that ${spec.name} can be restored`,
      steps: [...drillSteps],
      cancellable: true,
    },
    async (ctx) => {
      const list = new Checklist(ctx, drillSteps);
      const scratch = drillAppId(spec.appId);
      const client = await deps.client(record.id);
      let newest: { takenAt: number; id: string } | undefined;
      const remember = (ok: boolean, message: string | null) =>
        deps.state.updateApp(record.id, spec.appId, deps.clock.now(), (a) => {
          a.lastDrill = { at: deps.clock.now(), ok, message };
          if (ok && newest) a.lastVerifiedAt = Math.max(a.lastVerifiedAt ?? 0, newest.takenAt);
        });
      try {
        const points = toPoints(
          await restic.snapshots({ host: snapshotHost(record.id), path: snapshotPath(spec.appId) }),
        );
        newest = points[0];
        if (!newest)
          throw new HearthError(
            'NOT_FOUND',
            `${spec.name} has no backup to check yet. Back it up first.`,
          );
        const point = newest;
        // A scratch copy left by a drill that was cut off is removed first.
        await removeScratch(client, scratch);
        const tag = restoreTag(deps.clock.now());
        const fetched = await list.step(async () => {
          await client.prepareAppFolder(scratch, { signal: ctx.signal });
          const f = await fetchPoint(client, restic, {
            appId: scratch,
            sourceAppId: spec.appId,
            snapshotId: point.id,
            tag,
            withImage: true,
            signal: ctx.signal,
          });
          return { value: f, note: `The backup of ${when(point.takenAt)} arrived whole.` };
        });
        try {
          await list.step(async () => {
            await installFromPoint(deps, client, record, fetched, {
              appId: scratch,
              tag,
              adjust: (s) => drillSpec({ ...s, appId: scratch }),
              signal: ctx.signal,
              enable: false,
            });
            return { value: undefined, note: 'It started on the restored data and became ready.' };
          });
        } finally {
          await fetched.cleanup();
        }
        await list.step(async () => {
          await removeScratch(client, scratch);
          return { value: undefined };
        });
        await remember(true, null);
        return {
          value: null,
          summary: `${spec.name}’s backup of ${when(point.takenAt)} restores and starts.`,
        };
      } catch (error) {
        await removeScratch(client, scratch).catch(() => undefined);
        const cancelled = error instanceof HearthError && error.code === 'CANCELLED';
        if (!cancelled)
          await remember(
            false,
            error instanceof HearthError ? error.message : new HearthError('INTERNAL').message,
          ).catch(() => undefined);
        throw error;
      } finally {
        input.release();
        await deps.publish();
      }
    },
  );
}
