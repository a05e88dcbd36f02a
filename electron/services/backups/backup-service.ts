// Backups as the owner sees them: where they go, the recovery kit, each app's status, and the
// work (back up, restore, restore drill) as tasks with progress and Cancel. The steps themselves
// live in backup-run.ts, restore-run.ts and restore-drill.ts; this file decides when and
// remembers how it went.
import { HearthError } from '../../../shared/errors';
import type {
  AppBackupStatus,
  BackupPoint,
  BackupSchedule,
  BackupSetup,
  DeviceRecord,
  RecoveryKit,
} from '../../../shared/model';
import type { InvokeRequest } from '../../../shared/ipc';
import type { AppMonitor } from '../apps/app-monitor';
import type { Clock, Sleep } from '../clock';
import type { DeviceClient } from '../device/device-client';
import type { Logger } from '../logger';
import type { TaskManager } from '../tasks/task-manager';
import type { AppLocks, AppWork } from './app-locks';
import { snapshotHost, snapshotPath } from './backup-format';
import { toPoints } from './backup-points';
import type { BackupRepository } from './backup-repository';
import { runBackupTask } from './backup-task';
import { isOverdue, nextRunAt } from './backup-schedule';
import type { ScheduleFacts } from './backup-schedule';
import type { AppBackupState, BackupStateStore } from './backup-state';
import { appKey, newAppState } from './backup-state';
import { isScratchCopy, runDrillTask } from './restore-drill';
import type { PointSource } from './restore-task';
import { resticSource, runRestoreTask } from './restore-task';
import type { Restic } from './restic';
import type { RestoreDeps } from './restore-run';
import type { PeerDestinations } from './peer-destination';

export interface BackupServiceDeps extends RestoreDeps {
  state: BackupStateStore;
  repository: BackupRepository;
  /** Apps whose copies go to another device in the house. */
  peers: PeerDestinations;
  engine: (repository: string, password: string) => Promise<Restic>;
  monitor: Pick<AppMonitor, 'list' | 'get' | 'refreshDevice' | 'appIdsOn'>;
  devices: { list(): Promise<DeviceRecord[]>; get(id: string): Promise<DeviceRecord> };
  client: (deviceId: string) => Promise<DeviceClient>;
  tasks: TaskManager;
  locks: AppLocks;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  publish: (list: AppBackupStatus[]) => void;
  /** Native dialogs (Electron); absent in browser mode. */
  chooseFolder?: () => Promise<string | null>;
  /** Saves the kit page; returns where, or null when the owner cancelled. */
  saveKit: (html: string) => Promise<string | null>;
  /** One "hour" of a schedule; e2e sets it to seconds so a schedule runs within a test. */
  hourMs?: number;
}

export class BackupService {
  readonly #deps: BackupServiceDeps;
  /** appKey → the task of the backup, restore or drill running now. */
  readonly #running = new Map<string, string>();
  readonly #done = new Map<string, Promise<unknown>>();
  /**
   * Apps whose device may still hold copies of a run that did not end well (the link was cut,
   * Hearth was closed mid-run): cleared at the next chance. Every app is on it when Hearth starts.
   */
  readonly #untidy = new Set<string>();
  #seeded = false;

  constructor(deps: BackupServiceDeps) {
    this.#deps = deps;
  }

  // --- Where backups go, and the recovery kit -------------------------------------------------

  setup(): Promise<BackupSetup> {
    return this.#deps.repository.setup();
  }

  async chooseFolder(): Promise<{ path: string } | null> {
    if (!this.#deps.chooseFolder) throw new HearthError('NO_FILE_DIALOG');
    const path = await this.#deps.chooseFolder();
    return path === null ? null : { path };
  }

  async createRepository(path: string): Promise<{ setup: BackupSetup; kit: RecoveryKit }> {
    const result = await this.#deps.repository.create(path);
    await this.publish();
    return result;
  }

  async openRepository(path: string, password: string): Promise<BackupSetup> {
    const setup = await this.#deps.repository.openExisting(path, password);
    await this.publish();
    return setup;
  }

  recoveryKit(): Promise<RecoveryKit> {
    return this.#deps.repository.kit();
  }

  async saveKit(): Promise<{ savedTo: string } | null> {
    const kit = await this.#deps.repository.kit();
    const savedTo = await this.#deps.saveKit(kit.html);
    return savedTo === null ? null : { savedTo };
  }

  async confirmKit(): Promise<BackupSetup> {
    const setup = await this.#deps.repository.confirmKit();
    await this.publish();
    return setup;
  }

  // --- What the Backups view lists ------------------------------------------------------------

  async list(): Promise<AppBackupStatus[]> {
    const { clock, monitor } = this.#deps;
    const doc = await this.#deps.state.read();
    const ready = doc.repository?.kitConfirmed === true;
    const now = clock.now();
    const devices = new Map((await this.#deps.devices.list()).map((d) => [d.id, d]));
    return monitor
      .list()
      .filter((app) => !isScratchCopy(app))
      .map((app) => {
        const st = doc.apps[appKey(app.deviceId, app.appId)] ?? newAppState(now);
        const facts = this.#facts(st);
        const toComputer = st.destination.kind === 'computer';
        const destination =
          st.destination.kind === 'computer'
            ? ({ kind: 'computer' } as const)
            : {
                kind: 'device' as const,
                deviceId: st.destination.deviceId,
                deviceName: devices.get(st.destination.deviceId)?.name ?? 'another device',
              };
        return {
          deviceId: app.deviceId,
          deviceName: app.deviceName,
          appId: app.appId,
          appName: app.name,
          destination,
          schedule: { ...st.schedule },
          lastBackupAt: st.lastBackupAt,
          lastVerifiedAt: st.lastVerifiedAt,
          sizeBytes: st.sizeBytes,
          nextRunAt: ready || !toComputer ? nextRunAt(facts, this.#hourMs) : null,
          overdue: (ready || !toComputer) && isOverdue(facts, now, this.#hourMs),
          lastError: st.lastError,
          runningTaskId: this.#running.get(appKey(app.deviceId, app.appId)) ?? null,
          lastDrill: st.lastDrill,
        };
      });
  }

  async publish(): Promise<void> {
    try {
      this.#deps.publish(await this.list());
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'backup statuses could not be published');
    }
  }

  /**
   * The points of one app, newest first: in this computer's repository, and every copy another
   * device keeps of it (wherever its backups go now: switching back to this computer hides none).
   */
  async points(deviceId: string, appId: string): Promise<BackupPoint[]> {
    const st = await this.#deps.state.app(deviceId, appId, this.#deps.clock.now());
    const { repository } = await this.#deps.state.read();
    const here =
      st.destination.kind === 'computer' || repository?.kitConfirmed
        ? this.#restic().then((restic) =>
            restic.snapshots({ host: snapshotHost(deviceId), path: snapshotPath(appId) }),
          )
        : Promise.resolve([]);
    const [snapshots, held] = await Promise.all([here, this.#deps.peers.heldPoints()]);
    return newestFirst([
      ...toPoints(snapshots),
      ...held.filter((p) => p.deviceId === deviceId && p.appId === appId),
    ]);
  }

  /** Every point there is, for a restore onto another (or a new) device. */
  async allPoints(): Promise<BackupPoint[]> {
    // A folder Hearth has just made holds nothing until the kit is kept (no run starts before),
    // and the Backups view asks while the owner is still reading the kit: not an error to show.
    const { repository } = await this.#deps.state.read();
    if (repository && !repository.kitConfirmed) return [];
    const [here, held] = await Promise.all([
      this.#restic().then(async (restic) => toPoints(await restic.snapshots({ tags: ['hearth'] }))),
      this.#deps.peers.heldPoints(),
    ]);
    return newestFirst([...here, ...held]);
  }

  // --- Settings per app -----------------------------------------------------------------------

  async setSchedule(deviceId: string, appId: string, schedule: BackupSchedule) {
    const known = this.#known(deviceId, appId);
    const st = await this.#deps.state.app(deviceId, appId, this.#deps.clock.now());
    // The device's own timer follows the schedule of an app backed up to another device.
    if (st.destination.kind === 'device')
      await this.#deps.peers.configure(known.device, appId, st.destination.deviceId, schedule);
    await this.#deps.state.updateApp(deviceId, appId, this.#deps.clock.now(), (a) => {
      a.schedule = { ...schedule };
    });
    return this.#status(deviceId, appId);
  }

  async setDestination(
    deviceId: string,
    appId: string,
    destination: InvokeRequest<'backups:setDestination'>['destination'],
  ) {
    const known = this.#known(deviceId, appId);
    const st = await this.#deps.state.app(deviceId, appId, this.#deps.clock.now());
    if (destination.kind === 'device') {
      if (destination.deviceId === deviceId)
        throw new HearthError(
          'INVALID_INPUT',
          'A copy on the same device would be lost with it. Choose another device.',
        );
      await this.#deps.devices.get(destination.deviceId);
      // Backups must be set up: the other device's copies use the same password and kit.
      await this.#deps.repository.open();
      await this.#deps.peers.configure(known.device, appId, destination.deviceId, st.schedule);
    } else if (st.destination.kind === 'device') {
      await this.#deps.peers.disable(deviceId, appId);
    }
    await this.#deps.state.updateApp(deviceId, appId, this.#deps.clock.now(), (a) => {
      a.destination =
        destination.kind === 'computer'
          ? { kind: 'computer' }
          : { kind: 'device', deviceId: destination.deviceId };
    });
    const before = st.destination;
    if (
      before.kind === 'device' &&
      (destination.kind === 'computer' || destination.deviceId !== before.deviceId)
    )
      await this.#stopKeepingIfUnused(deviceId, before.deviceId);
    return this.#status(deviceId, appId);
  }

  // --- The work -------------------------------------------------------------------------------

  /** Backs the app up now; the task id. */
  async run(deviceId: string, appId: string): Promise<string> {
    const known = this.#known(deviceId, appId);
    const repo = await this.#deps.repository.open();
    const st = await this.#deps.state.app(deviceId, appId, this.#deps.clock.now());
    if (st.destination.kind === 'device') {
      const target = (await this.#deps.devices.get(st.destination.deviceId)).name;
      return this.#start(deviceId, appId, 'backup', (release) =>
        this.#deps.peers.backUpNow(known, target, release),
      );
    }
    const restic = await this.#deps.engine(repo.repository, repo.password);
    return this.#start(deviceId, appId, 'backup', (release) =>
      runBackupTask(this.#taskDeps(), { known, restic, release }),
    );
  }

  async restore(request: InvokeRequest<'backups:restore'>): Promise<string> {
    const target = request.toDeviceId;
    const known = this.#deps.monitor.get(target, request.appId);
    const { heldBy } = request;
    if (heldBy !== undefined && known && request.deviceId === target) {
      // The app's own device, whose timer sends its copies there: it fetches them itself.
      const st = await this.#deps.state.app(target, request.appId, this.#deps.clock.now());
      if (st.destination.kind === 'device' && st.destination.deviceId === heldBy)
        return this.#start(target, request.appId, 'restore', (release) =>
          this.#deps.peers.restore(known, request.pointId, release),
        );
    }
    const from: PointSource =
      heldBy === undefined
        ? resticSource(await this.#restic())
        : {
            // Read through the device that keeps it: the device it came from may be dead.
            points: async () =>
              (await this.#deps.peers.heldPoints()).filter((p) => p.heldBy === heldBy),
            ...(await this.#deps.peers.heldDumper(heldBy, request.deviceId)),
          };
    return this.#start(target, request.appId, 'restore', (release) =>
      runRestoreTask(this.#taskDeps(), { request, known, from, release }),
    );
  }

  async drill(deviceId: string, appId: string): Promise<string> {
    const known = this.#known(deviceId, appId);
    const repo = await this.#deps.repository.open();
    const restic = await this.#deps.engine(repo.repository, repo.password);
    return this.#start(deviceId, appId, 'drill', (release) =>
      runDrillTask(this.#taskDeps(), { known, restic, release }),
    );
  }

  /**
   * Removes what a run that did not end well left on the app's device (copies, partial
   * restores); the scheduler asks at every tick, and it costs one command per untidy app.
   */
  async tidy(deviceId: string, appId: string): Promise<void> {
    const k = appKey(deviceId, appId);
    if (!this.#seeded) {
      this.#seeded = true;
      for (const app of this.#deps.monitor.list())
        this.#untidy.add(appKey(app.deviceId, app.appId));
    }
    if (!this.#untidy.has(k) || this.busy(deviceId, appId)) return;
    const release = this.#deps.locks.tryAcquire(deviceId, appId, 'backup');
    try {
      const client = await this.#deps.client(deviceId);
      await client.removeStaleCopies(appId);
      this.#untidy.delete(k);
    } finally {
      release();
    }
  }

  /** Reads what an app's device timer last did (its copies go to another device). */
  async refreshPeer(deviceId: string, appId: string): Promise<void> {
    await this.#deps.peers.refresh(deviceId, appId);
  }

  /** Settles when the task ends (the scheduler runs one backup at a time). */
  finished(taskId: string): Promise<void> {
    return (this.#done.get(taskId) ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Whether the app is busy with backup work (the scheduler skips it). */
  busy(deviceId: string, appId: string): boolean {
    return this.#deps.locks.holder(deviceId, appId) !== null;
  }

  get hourMs(): number {
    return this.#hourMs;
  }

  /** The schedule's view of an app, for the scheduler. */
  facts(st: AppBackupState): ScheduleFacts {
    return this.#facts(st);
  }

  // --- Inside ---------------------------------------------------------------------------------

  get #hourMs(): number {
    return this.#deps.hourMs ?? 60 * 60_000;
  }

  #facts(st: AppBackupState): ScheduleFacts {
    return {
      schedule: st.schedule,
      lastBackupAt: st.lastBackupAt,
      lastFailureAt: st.lastFailureAt,
      firstSeenAt: st.firstSeenAt,
    };
  }

  /** The source's key leaves the target once none of its apps sends copies there any more. */
  async #stopKeepingIfUnused(sourceId: string, targetId: string): Promise<void> {
    const doc = await this.#deps.state.read();
    const stillUsed = Object.entries(doc.apps).some(
      ([key, a]) =>
        key.startsWith(appKey(sourceId, '')) &&
        a.destination.kind === 'device' &&
        a.destination.deviceId === targetId,
    );
    if (stillUsed) return;
    // The copies stay there either way. A target that cannot be reached now keeps the key (it
    // lets only SFTP into that one folder); the owner's change of destination holds regardless.
    await this.#deps.peers.stopKeeping(sourceId, targetId).catch((error: unknown) => {
      this.#deps.log.warn({ err: error, sourceId, targetId }, 'the source key stays on the target');
    });
  }

  #taskDeps() {
    return { ...this.#deps, publish: () => this.publish() };
  }

  #known(deviceId: string, appId: string) {
    const known = this.#deps.monitor.get(deviceId, appId);
    if (!known) throw new HearthError('APP_NOT_ON_DEVICE');
    return known;
  }

  async #restic(): Promise<Restic> {
    const repo = await this.#deps.repository.open();
    return this.#deps.engine(repo.repository, repo.password);
  }

  async #status(deviceId: string, appId: string): Promise<AppBackupStatus> {
    const found = (await this.list()).find((s) => s.deviceId === deviceId && s.appId === appId);
    if (!found) throw new HearthError('APP_NOT_ON_DEVICE');
    await this.publish();
    return found;
  }

  /** Takes the app's lock, starts the task, and lets go of both when it ends. */
  async #start(
    deviceId: string,
    appId: string,
    work: AppWork,
    begin: (release: () => void) => { id: string; done: Promise<unknown> },
  ): Promise<string> {
    const release = this.#deps.locks.tryAcquire(deviceId, appId, work);
    let handle: { id: string; done: Promise<unknown> };
    try {
      handle = begin(release);
    } catch (error) {
      release();
      throw error;
    }
    const k = appKey(deviceId, appId);
    this.#running.set(k, handle.id);
    this.#done.set(handle.id, handle.done);
    void this.publish();
    void handle.done
      .catch(() => {
        this.#untidy.add(k);
      })
      .finally(() => {
        release();
        if (this.#running.get(k) === handle.id) this.#running.delete(k);
        this.#done.delete(handle.id);
        void this.publish();
      });
    return handle.id;
  }
}

function newestFirst(points: BackupPoint[]): BackupPoint[] {
  return points.sort((a, b) => b.takenAt - a.takenAt);
}
