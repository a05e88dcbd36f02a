// An update as a transaction (issue 11): download and verify → place and verify on the device →
// stop → copy the data aside → switch `current` (keeping `previous`) → start → health probe,
// then a stability window with no crash → commit. Any failure after the copy rolls image, files
// and data back by themselves and the owner is told in one sentence. The device keeps the
// transaction's state (update-step-script.ts), so a crash of either side is settled: by the
// device at its next boot, or by Hearth when it finds a transaction nobody drives (sweep()).
import { HearthError } from '../../../shared/errors';
import type { AppId, DeviceId } from '../../../shared/ids';
import type { DeviceRecord, UpdateOutcome } from '../../../shared/model';
import type { AppCatalogPort, LauncherPort } from '../apps/app-ports';
import { appFiles } from '../apps/app-files';
import { sleepsWhenIdle } from '../apps/app-sleep';
import type { AppSpec } from '../apps/app-spec';
import type { AppLocks } from '../backups/app-locks';
import { isTarget } from '../../../shared/runtimes';
import { compareVersions } from '../catalog/compare-versions';
import type { Clock, Sleep } from '../clock';
import type { DeviceStore } from '../devices/device-store';
import type { Logger } from '../logger';
import { Checklist } from '../tasks/checklist';
import type { TaskContext, TaskHandle, TaskManager } from '../tasks/task-manager';
import type { UpdateDevice } from './update-device';
import type { UpdateHistory } from './update-history';
import type { UpdateRunner, UpdateStanding } from './update-runner';

export const updateSteps = [
  'Wait for other work on it to finish',
  'Download and check the new version',
  'Send it to the device',
  'Keep a copy of its data',
  'Switch to the new version',
  'Start it and watch it',
  'Keep the new version',
] as const;

export const goBackSteps = ['Wait for other work on it to finish', 'Go back', 'Start it'] as const;

export interface UpdateTransactionDeps {
  devices: Pick<DeviceStore, 'get'>;
  tasks: TaskManager;
  catalog: AppCatalogPort;
  launcher: LauncherPort;
  device: (deviceId: DeviceId) => Promise<UpdateDevice>;
  locks: AppLocks;
  history: UpdateHistory;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  /** Reads the device's apps again (after an update, and if it fails). */
  refresh: (device: DeviceRecord) => Promise<void>;
  /** How long the new version must run without a crash before it is kept (60 s). */
  stabilityMs?: number;
  /** How long a start may take to become ready (90 s, emulation included). */
  readyMs?: number;
  newId?: () => string;
  /** "14:02": when the data a rollback returns to was copied. */
  timeOfDay?: (ms: number) => string;
}

/** How putting the old version back went ('put-back': in place, but not started and checked). */
type RolledBack = 'healthy' | 'unhealthy' | 'put-back' | 'unreached';

const key = (deviceId: string, appId: string) => `${deviceId}/${appId}`;
const POLL_MS = 1_000;

function defaultTimeOfDay(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Why the new version was given up on: it never became ready, or it stopped again. */
class NewVersionFailed extends Error {
  constructor(readonly how: 'not-ready' | 'crashed') {
    super(how);
  }
}

export class UpdateTransaction implements UpdateRunner {
  readonly #deps: UpdateTransactionDeps;
  readonly #running = new Map<string, string>();
  readonly #previous = new Map<string, string | null>();
  readonly #listeners = new Set<() => void>();
  readonly #sweeping = new Set<string>();

  constructor(deps: UpdateTransactionDeps) {
    this.#deps = deps;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch (err) {
        this.#deps.log.warn({ err }, 'an updates listener failed');
      }
    }
  }

  standing(deviceId: string, appId: string): UpdateStanding {
    const k = key(deviceId, appId);
    return {
      previousVersion: this.#previous.get(k) ?? null,
      runningTaskId: this.#running.get(k) ?? null,
      lastOutcome: this.#deps.history.outcome(deviceId, appId),
    };
  }

  async start(deviceId: string, appId: string, version: string): Promise<{ taskId: string }> {
    const deps = this.#deps;
    const k = key(deviceId, appId);
    if (this.#running.has(k)) throw new HearthError('BACKUP_BUSY');
    const device = await deps.devices.get(deviceId);
    const port = await deps.device(deviceId);
    const from = await port.spec(appId);
    if (!from) throw new HearthError('NOT_FOUND');
    if ((await port.origin(appId)) !== 'catalog')
      throw new HearthError(
        'UPDATE_NOT_OFFERED',
        `${from.name} was installed from a file: Hearth updates only apps that come from a catalog.`,
      );
    if (!isTarget(from.target)) throw new HearthError('DEVICE_GARBLED');
    const resolved = await deps.catalog.resolve(appId, from.target);
    if (resolved.version !== version || compareVersions(version, from.version) <= 0)
      throw new HearthError('UPDATE_NOT_OFFERED');
    const id = (deps.newId ?? (() => `u${deps.clock.now().toString(36)}`))();
    const handle = deps.tasks.run(
      {
        kind: 'app-update',
        title: `Update ${from.name} to ${version} on ${device.name}`,
        steps: [...updateSteps],
      },
      async (ctx) => {
        const list = new Checklist(ctx, updateSteps);
        const release = await list.step(async () => {
          if (deps.locks.holder(deviceId, appId))
            ctx.detail(`Waiting for the backup of ${from.name} to finish…`);
          return { value: await deps.locks.acquire(deviceId, appId, 'update', ctx.signal) };
        });
        try {
          const message = await this.#run({ ctx, list, port, device, from, resolved, id });
          return { value: undefined, summary: message };
        } finally {
          release();
        }
      },
    );
    return this.#track(device, appId, handle);
  }

  /** The app's update or "go back" runs in this task until it ends; then its state is read again. */
  #track(device: DeviceRecord, appId: AppId, handle: TaskHandle<unknown>): { taskId: string } {
    const k = key(device.id, appId);
    this.#running.set(k, handle.id);
    this.#changed();
    void handle.done
      .catch(() => undefined)
      .finally(() => {
        this.#running.delete(k);
        void this.#afterwards(device, appId);
      });
    return { taskId: handle.id };
  }

  async #afterwards(device: DeviceRecord, appId: AppId): Promise<void> {
    await this.#readStanding(device.id, appId).catch(() => undefined);
    this.#changed();
    await this.#deps.refresh(device).catch(() => undefined);
  }

  async #run(t: {
    ctx: TaskContext;
    list: Checklist;
    port: UpdateDevice;
    device: DeviceRecord;
    from: AppSpec;
    resolved: Awaited<ReturnType<AppCatalogPort['resolve']>>;
    id: string;
  }): Promise<string> {
    const { ctx, list, port, device, from, resolved, id } = t;
    const deps = this.#deps;
    const signal = ctx.signal;
    const appId = from.appId;
    const name = from.name;

    let to: AppSpec;
    try {
      to = await this.#stage(list, ctx, port, from, resolved);
    } catch (error) {
      throw await this.#notUpdated(device, from, error, ctx, 'healthy');
    }

    // From here the device holds a transaction: it is recorded here too, so a recovery after
    // a crash of this computer can name the versions.
    let dataAt: number | null = null;
    const pending = () => ({
      id,
      name,
      fromVersion: from.version,
      toVersion: to.version,
      startedAt: deps.clock.now(),
      dataAt,
    });
    await deps.history.setPending(device.id, appId, pending());
    let switched = false;
    let began = false;
    try {
      await port.begin(appId, id, to.sha256, signal);
      began = true;
      await list.step(async () => {
        ctx.detail(`Stopping ${name} and keeping a copy of its data…`);
        await port.stop(appId);
        await port.snapshot(appId, signal);
        dataAt = deps.clock.now();
        await deps.history.setPending(device.id, appId, pending());
        return { value: undefined, note: 'If the new version fails, this copy comes back.' };
      });
      await list.step(async () => {
        await port.writeFiles(appId, appFiles(deps.launcher, device, to), signal);
        await port.switchTo(appId, signal);
        switched = true;
        // The sleep units hold the published ports and forward to the internal ones: the new
        // version's ports may differ, so they are written again from its files before it starts.
        if (from.sleep || to.sleep) await port.sleep(appId, to.sleep !== undefined, signal);
        return { value: undefined };
      });
      await list.step(async () => {
        await port.start(appId);
        await this.#proves(port, to, signal);
        return { value: undefined, note: `${name} ${to.version} runs and keeps running.` };
      });
    } catch (error) {
      // A begin whose answer was lost may have left a staged transaction; the app was not
      // touched, so dropping it is all there is to do (a cut link leaves it to the sweep).
      const back: RolledBack = began
        ? await this.#rollBack(port, from, to, dataAt, ctx)
        : await port.rollBack(appId).then(
            () => 'healthy' as const,
            () => 'unreached' as const,
          );
      if (back === 'unreached') {
        const message = `Hearth lost touch with ${device.name} while updating ${name}. When it reaches the device again, it finishes putting ${from.version} back.`;
        await this.#settle(device.id, appId, 'failed', message);
        throw new HearthError('UPDATE_FAILED', message, { cause: error });
      }
      if (back === 'put-back') {
        // The old version is in place; the device lost touch before it could be started and
        // checked (it restarts, say): it starts by itself with the device.
        const message = `Hearth lost touch with ${device.name} while updating ${name} to ${to.version}, after putting ${from.version} back.${dataSentence(dataAt, this.#timeOfDay)}`;
        await this.#settle(device.id, appId, 'rolled-back', message);
        throw new HearthError('UPDATE_ROLLED_BACK', message, { cause: error });
      }
      if (error instanceof NewVersionFailed || (switched && !ctx.signal.aborted)) {
        const how =
          error instanceof NewVersionFailed && error.how === 'crashed'
            ? 'kept stopping'
            : 'did not start';
        const message =
          back === 'healthy'
            ? `${name} ${to.version} ${how}; Hearth went back to ${from.version}.${dataSentence(dataAt, this.#timeOfDay)}`
            : `${name} ${to.version} ${how}. Hearth put ${from.version} back, but it did not become ready either. Open its console to see what it says.`;
        await this.#settle(device.id, appId, 'rolled-back', message);
        throw new HearthError('UPDATE_ROLLED_BACK', message, { cause: error });
      }
      // Nothing of the new version ever ran (a cancel, a copy that did not fit).
      throw await this.#notUpdated(device, from, error, ctx, back);
    }

    return list.step(async () => {
      ctx.uncancellable();
      await port.commit(appId);
      const message = `${name} was updated to ${to.version}.`;
      await this.#settle(device.id, appId, 'updated', message);
      if (to.sleep) await this.#backToSleep(port, to);
      return { value: message, note: `${from.version} is kept, so you can go back to it.` };
    });
  }

  async #notUpdated(
    device: DeviceRecord,
    from: AppSpec,
    error: unknown,
    ctx: TaskContext,
    back: RolledBack,
  ): Promise<HearthError> {
    const reason = error instanceof HearthError ? ` ${error.message}` : '';
    const runs =
      back === 'healthy'
        ? `it runs ${from.version} as before`
        : `${from.version} is back, but it did not become ready. Open its console to see what it says`;
    const message = ctx.signal.aborted
      ? `The update of ${from.name} was cancelled; ${runs}.`
      : `${from.name} was not updated; ${runs}.${reason}`;
    await this.#settle(device.id, from.appId, 'failed', message);
    if (error instanceof HearthError && error.code === 'CANCELLED') return error;
    return new HearthError(error instanceof HearthError ? error.code : 'UPDATE_FAILED', message, {
      cause: error,
    });
  }

  /** Downloads, places and verifies the new image on the device; the app is untouched. */
  async #stage(
    list: Checklist,
    ctx: TaskContext,
    port: UpdateDevice,
    from: AppSpec,
    resolved: Awaited<ReturnType<AppCatalogPort['resolve']>>,
  ): Promise<AppSpec> {
    const deps = this.#deps;
    const signal = ctx.signal;
    const appId = from.appId;
    const name = from.name;
    const local = await list.step(async () => {
      const kernel = await deps.catalog.download(resolved.artifact, {
        signal,
        onProgress: (done, all) => list.within(done / Math.max(all, 1)),
      });
      const initrd = resolved.artifact.initrd
        ? await deps.catalog.download(resolved.artifact.initrd, {
            signal,
            onProgress: () => undefined,
          })
        : null;
      return {
        value: { kernel, initrd },
        note: `${name} ${resolved.version}, checked against the catalog.`,
      };
    });

    await list.step(async () => {
      const progress = (done: number, all: number) => list.within(done / Math.max(all, 1));
      await port.placeImage(appId, resolved.artifact.sha256, local.kernel, {
        signal,
        onProgress: progress,
      });
      if (local.initrd && resolved.artifact.initrd)
        await port.placeImage(appId, resolved.artifact.initrd.sha256, local.initrd, {
          signal,
          onProgress: progress,
        });
      const hashes = [resolved.artifact.sha256, resolved.artifact.initrd?.sha256].filter(
        (h): h is string => typeof h === 'string',
      );
      if (!(await port.imagesIntact(appId, hashes, signal)))
        throw new HearthError('DEVICE_GARBLED');
      return { value: undefined, note: 'The copy on the device matches the catalog.' };
    });

    const to: AppSpec = {
      ...from,
      name: resolved.name,
      version: resolved.version,
      target: resolved.target,
      sha256: resolved.artifact.sha256,
      disk: resolved.artifact.disk,
      memoryMiB: Math.max(from.memoryMiB, resolved.resources.memoryMiB),
      volumes: mergedVolumes(from, resolved.resources.volumes),
      ports: resolved.resources.ports,
      bootArgs: resolved.resources.bootArgs,
      health: resolved.resources.health,
      installedAt: new Date(deps.clock.now()).toISOString(),
    };
    if (resolved.artifact.initrd) to.initrdSha256 = resolved.artifact.initrd.sha256;
    else delete to.initrdSha256;
    // A sleeping app sleeps on where the new version can (a TCP port a visit can wake it on).
    if (to.sleep && !sleepsWhenIdle(to)) delete to.sleep;

    return to;
  }

  /** Ready within the timeout, then no crash and no restart for the stability window. */
  async #proves(port: UpdateDevice, spec: AppSpec, signal: AbortSignal): Promise<void> {
    const deps = this.#deps;
    const ready = await port
      .healthy(spec, deps.readyMs ?? 90_000, signal)
      .catch((error: unknown) => {
        if (error instanceof HearthError && error.code === 'CANCELLED') throw error;
        return false;
      });
    if (!ready) throw new NewVersionFailed('not-ready');
    const first = await port.unitStatus(spec.appId);
    const restarts = first?.restarts ?? 0;
    const until = deps.clock.now() + (deps.stabilityMs ?? 60_000);
    while (deps.clock.now() < until) {
      await deps.sleep(POLL_MS, signal);
      const now = await port.unitStatus(spec.appId);
      // An idle time shorter than this window lets it fall asleep: stopped cleanly, its
      // sockets listening, no restart. It was ready; the next visit wakes it.
      const asleep =
        spec.sleep && now?.sleeping && now.activeState === 'inactive' && now.restarts <= restarts;
      if (asleep) return;
      if (!now || now.activeState !== 'active' || now.restarts > restarts)
        throw new NewVersionFailed('crashed');
    }
  }

  /** Puts the old version back whatever the cancel says; true when it is healthy again. */
  async #rollBack(
    port: UpdateDevice,
    from: AppSpec,
    to: AppSpec,
    dataAt: number | null,
    ctx: TaskContext,
  ): Promise<RolledBack> {
    const deps = this.#deps;
    ctx.detail(`Going back to ${from.name} ${from.version}…`);
    // The rollback must finish even after Cancel: its own signal, not the task's.
    const own = new AbortController().signal;
    let putBack = false;
    try {
      await port.stop(from.appId);
      const done = await port.rollBack(from.appId);
      putBack = true;
      deps.log.info({ appId: from.appId, done, to: to.version }, 'update rolled back');
      // The old files are back: so are the old ports, which its sleep units must hold again.
      if (from.sleep || to.sleep) await port.sleep(from.appId, from.sleep !== undefined, own);
      await port.start(from.appId);
    } catch (err) {
      // The device settles it by itself (its watcher, or its next boot), or the next sweep does.
      deps.log.warn({ err, appId: from.appId, dataAt, putBack }, 'the rollback did not finish');
      return putBack ? 'put-back' : 'unreached';
    }
    const ok = await port.healthy(from, deps.readyMs ?? 90_000, own).catch(() => false);
    if (ok && from.sleep) await this.#backToSleep(port, from);
    return ok ? 'healthy' : 'unhealthy';
  }

  /**
   * A sleeping app woken for its health probe sleeps again at once, as an install leaves it
   * (otherwise it would run on until its idle time). It is ready either way: a failure here
   * only leaves it awake until then, so it is logged, not the owner's problem.
   */
  async #backToSleep(port: UpdateDevice, spec: AppSpec): Promise<void> {
    await port
      .sleep(spec.appId, true, new AbortController().signal)
      .catch((err: unknown) =>
        this.#deps.log.warn({ err, appId: spec.appId }, 'the app was left awake after its update'),
      );
  }

  async #settle(
    deviceId: string,
    appId: string,
    kind: UpdateOutcome['kind'],
    message: string,
  ): Promise<void> {
    await this.#deps.history
      .settle(deviceId, appId, { at: this.#deps.clock.now(), kind, message })
      .catch((err: unknown) => this.#deps.log.warn({ err }, 'the update outcome was not saved'));
    this.#changed();
  }

  get #timeOfDay(): (ms: number) => string {
    return this.#deps.timeOfDay ?? defaultTimeOfDay;
  }

  // --- Going back ---------------------------------------------------------------------------

  async goBack(
    deviceId: string,
    appId: string,
    data: 'now' | 'before',
  ): Promise<{ taskId: string }> {
    const deps = this.#deps;
    const k = key(deviceId, appId);
    if (this.#running.has(k)) throw new HearthError('BACKUP_BUSY');
    const device = await deps.devices.get(deviceId);
    const port = await deps.device(deviceId);
    const [now, status] = await Promise.all([port.spec(appId), port.status(appId)]);
    if (!now) throw new HearthError('NOT_FOUND');
    const previous = status.previous;
    if (!previous || (data === 'before' && !previous.hasData))
      throw new HearthError('NO_PREVIOUS_VERSION');
    const id = (deps.newId ?? (() => `g${deps.clock.now().toString(36)}`))();
    const handle = deps.tasks.run(
      {
        kind: 'app-update',
        title: `Put ${now.name} back to ${previous.version} on ${device.name}`,
        steps: [...goBackSteps],
      },
      async (ctx) => {
        const list = new Checklist(ctx, goBackSteps);
        const release = await list.step(async () => ({
          value: await deps.locks.acquire(deviceId, appId, 'update', ctx.signal),
        }));
        try {
          await list.step(async () => {
            ctx.uncancellable();
            await port.stop(appId);
            await port.goBack(appId, data, id);
            return { value: undefined };
          });
          const back = await port.spec(appId);
          return await list.step(async () => {
            // The earlier version's files are back, and with them its ports (see the update).
            if (now.sleep || back?.sleep)
              await port.sleep(appId, back?.sleep !== undefined, ctx.signal);
            await port.start(appId);
            const ok = back
              ? await port.healthy(back, deps.readyMs ?? 90_000, ctx.signal).catch(() => false)
              : false;
            if (ok && back?.sleep) await this.#backToSleep(port, back);
            const message = ok
              ? `${now.name} is back at ${previous.version}, ${data === 'before' ? 'with its data as it was before the update' : 'with its data as it is now'}.`
              : `${now.name} is back at ${previous.version}, but it did not become ready. Open its console to see what it says.`;
            await this.#settle(deviceId, appId, ok ? 'went-back' : 'failed', message);
            if (!ok) throw new HearthError('APP_NOT_READY', message);
            return { value: { value: undefined, summary: message } };
          });
        } finally {
          release();
        }
      },
    );
    return this.#track(device, appId, handle);
  }

  // --- Finding what nobody finished ----------------------------------------------------------

  async #readStanding(deviceId: string, appId: string) {
    const port = await this.#deps.device(deviceId);
    const status = await port.status(appId);
    this.#previous.set(key(deviceId, appId), status.previous?.version ?? null);
    return { port, status };
  }

  /**
   * Looks at one app's update state on its device: remembers what "go back" can return to,
   * settles a transaction that nobody drives any more (this computer's services died in the
   * middle: the same boot of the device, no task here), and tells the owner what the device
   * settled by itself at a boot.
   */
  async sweep(deviceId: string, appId: string): Promise<void> {
    const deps = this.#deps;
    const k = key(deviceId, appId);
    if (this.#running.has(k) || this.#sweeping.has(k)) return;
    this.#sweeping.add(k);
    try {
      const before = this.#previous.get(k);
      const { port, status } = await this.#readStanding(deviceId, appId);
      if (before !== this.#previous.get(k)) this.#changed();
      const pending = deps.history.pending(deviceId, appId);
      if (status.transaction) {
        if (deps.locks.holder(deviceId, appId)) return;
        const release = deps.locks.tryAcquire(deviceId, appId, 'update');
        try {
          const phase = status.transaction.phase;
          if (phase !== 'committing') await port.stop(appId);
          const done = await port.recover(appId);
          if (phase !== 'committing') await port.start(appId);
          await port.told(appId);
          await this.#settle(deviceId, appId, ...outcomeOf(done, pending, 'hearth'));
        } finally {
          release();
        }
        await this.#afterwards(await deps.devices.get(deviceId), appId);
        return;
      }
      if (status.last) {
        await port.told(appId);
        await this.#settle(deviceId, appId, ...outcomeOf(status.last.outcome, pending, 'device'));
        this.#previous.set(k, (await port.status(appId)).previous?.version ?? null);
        this.#changed();
      } else if (pending) {
        // This computer stopped before the device held anything (or after it was all done).
        await deps.history.setPending(deviceId, appId, null);
      }
    } finally {
      this.#sweeping.delete(k);
    }
  }
}

function mergedVolumes(from: AppSpec, next: AppSpec['volumes']): AppSpec['volumes'] {
  // A volume the old version had stays (its data is the app's); a new one is added.
  const names = new Set(from.volumes.map((v) => v.name));
  return [...from.volumes, ...next.filter((v) => !names.has(v.name))];
}

function dataSentence(dataAt: number | null, timeOfDay: (ms: number) => string): string {
  return dataAt === null
    ? ' Your data is as it was.'
    : ` Your data is as it was at ${timeOfDay(dataAt)}.`;
}

function outcomeOf(
  done: string,
  pending: { name: string; fromVersion: string; toVersion: string } | null,
  by: 'device' | 'hearth',
): [UpdateOutcome['kind'], string] {
  const name = pending?.name ?? 'An app';
  const to = pending ? ` to ${pending.toVersion}` : '';
  const back = pending ? ` to ${pending.fromVersion}` : '';
  const cut =
    by === 'device'
      ? `The update of ${name}${to} was cut short when its device restarted`
      : `Hearth was interrupted while updating ${name}${to}`;
  switch (done) {
    case 'committed':
      return ['updated', `${name} was updated${to} (the update finished after an interruption).`];
    case 'went-back':
      return ['went-back', `${name} went back${back}.`];
    case 'discarded':
      return ['failed', `${cut}; nothing had changed yet, and it runs as before.`];
    default:
      return [
        'rolled-back',
        `${cut}; it went back${back} by itself, with its data as it was before.`,
      ];
  }
}
