// Backups: where they go (the setup, kept fresh by backups:setupChanged), how each app's
// stand (backups:list, then every backups:changed), the points an app can go back to
// (asked for when the owner restores), and the tasks that back up, restore or check.
// A refusal comes back as the owner's sentence, shown where the owner acted.
import type { HearthApi } from '../../../shared/hearth-api';
import type {
  AppBackupStatus,
  BackupPoint,
  BackupSchedule,
  BackupSetup,
  RecoveryKit,
  TaskSnapshot,
} from '../../../shared/model';
import { deserializeError } from '../../../shared/errors';
import type { AppRef } from './apps.svelte';
import { appKey, refOf } from './apps.svelte';
import { KeyedActions } from './keyed-actions.svelte';
import { messageOf } from './notices.svelte';
import { AppStatusList } from './app-status-list.svelte';
import type { NoticesState } from './notices.svelte';
import type { TasksState } from './tasks.svelte';

export type BackupAction = 'run' | 'drill' | 'restore' | 'schedule' | 'destination';

/** A task the owner started from here, so it shows even before the status names it. */
export interface BackupRun {
  taskId: string;
  action: 'run' | 'drill' | 'restore';
}

/** What chooseFolder found: a folder, nothing (cancelled), or no dialog to open here. */
export type FolderChoice =
  | { kind: 'chosen'; path: string }
  | { kind: 'cancelled' }
  | { kind: 'no-dialog' }
  | { kind: 'failed'; message: string };

/** The backups of an app that no device has now (its device broke, or was forgotten). */
export interface OrphanBackups {
  appId: string;
  deviceId: string;
  appName: string;
  points: BackupPoint[];
}

export class BackupsState extends AppStatusList<AppBackupStatus> {
  setup = $state.raw<BackupSetup | null>(null);
  /** The recovery kit on screen: right after creating the backups, or when asked for. */
  kit = $state.raw<RecoveryKit | null>(null);
  /** Points per app (appKey), once asked for; newest first. */
  points = $state.raw<Readonly<Record<string, readonly BackupPoint[]>>>({});
  /** Every point in the backups, once asked for (restoring apps no device has). */
  allPoints = $state.raw<readonly BackupPoint[] | null>(null);
  readonly #actions = new KeyedActions<BackupAction>();
  /** Apps with a request on its way, by appKey: their buttons wait. */
  get busy(): Readonly<Record<string, BackupAction>> {
    return this.#actions.busy;
  }
  /** The latest task started here per app (appKey). */
  runs = $state.raw<Readonly<Record<string, BackupRun>>>({});
  /** The last refusal per app (appKey), as the owner's sentence, until the next try. */
  get problems(): Readonly<Record<string, string>> {
    return this.#actions.problems;
  }

  /** Backups are set up and may run: the owner kept the recovery kit. */
  readonly ready = $derived(this.setup?.repository?.kitConfirmed === true);

  readonly #tasks: TasksState;

  constructor(api: HearthApi, tasks: TasksState, notices: NoticesState) {
    super(api, notices);
    this.#tasks = tasks;
  }

  async start(): Promise<void> {
    // Subscribe before asking, so nothing that happens in between is missed.
    this.listen(
      () => this.api.on('backups:changed', (list) => this.received(list)),
      () => this.api.on('backups:setupChanged', (setup) => (this.setup = setup)),
    );
    await Promise.all([this.refreshSetup(), this.refresh()]);
  }

  async refreshSetup(): Promise<void> {
    try {
      this.setup = await this.api.backups.setup();
    } catch (error) {
      this.notices.report(error);
    }
  }

  refresh(): Promise<void> {
    return this.fetch(() => this.api.backups.list());
  }

  /**
   * The task to show for an app: the one its status says is running, else the latest one
   * started here (which may have just finished, so its outcome can be read).
   */
  taskOf(status: AppBackupStatus): TaskSnapshot | null {
    const running = this.task(status.runningTaskId);
    if (running) return running;
    const started = this.task(this.runs[appKey(status)]?.taskId ?? null);
    // Its outcome stays until a newer backup (the device's timer) has made it old news.
    const outdated =
      started?.endedAt != null &&
      status.lastBackupAt !== null &&
      status.lastBackupAt > started.endedAt;
    return outdated ? null : started;
  }

  /** A task by its id (a restore's, shown in the restore dialog). */
  task(id: string | null): TaskSnapshot | null {
    return id ? (this.#tasks.list.find((t) => t.id === id) ?? null) : null;
  }

  // --- Setting up ------------------------------------------------------------------

  /** Opens the folder dialog; in a browser window there is none, and the owner types it. */
  async chooseFolder(): Promise<FolderChoice> {
    try {
      const answer = await this.api.backups.chooseFolder();
      return answer ? { kind: 'chosen', path: answer.path } : { kind: 'cancelled' };
    } catch (error) {
      if (deserializeError(error).code === 'NO_FILE_DIALOG') return { kind: 'no-dialog' };
      return { kind: 'failed', message: messageOf(error) };
    }
  }

  /** Makes new backups in the folder; the kit to keep comes up. Null, or why not. */
  async createRepository(path: string): Promise<string | null> {
    try {
      const { setup, kit } = await this.api.backups.createRepository({ path: path.trim() });
      this.setup = setup;
      this.kit = kit;
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  /** Opens backups made before (on another computer) with the kit's password. */
  async openRepository(path: string, password: string): Promise<string | null> {
    try {
      this.setup = await this.api.backups.openRepository({
        path: path.trim(),
        password: password.trim(),
      });
      this.allPoints = null;
      await Promise.all([this.refresh(), this.loadAllPoints()]);
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  /** Shows the recovery kit again (it holds the password, so only when asked). */
  async showKit(): Promise<string | null> {
    try {
      this.kit = await this.api.backups.recoveryKit();
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  hideKit(): void {
    this.kit = null;
  }

  /** Saves the kit as a page; where it went, null if the owner cancelled, or why not. */
  async saveKit(): Promise<{ savedTo: string | null; error: string | null }> {
    try {
      const answer = await this.api.backups.saveKit();
      return { savedTo: answer?.savedTo ?? null, error: null };
    } catch (error) {
      return { savedTo: null, error: messageOf(error) };
    }
  }

  /** The owner kept the kit: backups may start. Null, or why not. */
  async confirmKit(): Promise<string | null> {
    try {
      this.setup = await this.api.backups.confirmKit();
      this.kit = null;
      await this.refresh();
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  // --- Points ----------------------------------------------------------------------

  async loadPoints(ref: AppRef): Promise<string | null> {
    // The list read last time may name points the retention has since forgotten: none is
    // offered (so none can be chosen) until the fresh list is here.
    const { [appKey(ref)]: _stale, ...rest } = this.points;
    this.points = rest;
    try {
      const points = await this.api.backups.points(refOf(ref));
      this.points = { ...this.points, [appKey(ref)]: newestFirst(points) };
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  async loadAllPoints(): Promise<void> {
    try {
      this.allPoints = newestFirst(await this.api.backups.allPoints());
    } catch (error) {
      this.notices.report(error);
    }
  }

  /** Points of apps that no device has now, grouped per app and device, newest first. */
  readonly orphans = $derived.by((): OrphanBackups[] => {
    if (!this.allPoints) return [];
    const installed = this.list.map((s) => appKey(s));
    const groups: Record<string, OrphanBackups> = {};
    for (const point of this.allPoints) {
      const key = appKey(point);
      if (installed.includes(key)) continue;
      groups[key] ??= {
        appId: point.appId,
        deviceId: point.deviceId,
        appName: point.appName,
        points: [],
      };
      groups[key].points.push(point);
    }
    return Object.values(groups);
  });

  // --- What the owner does with one app --------------------------------------------

  backUpNow(status: AppBackupStatus): Promise<boolean> {
    return this.#startTask(status, 'run', () => this.api.backups.run(refOf(status)));
  }

  drill(status: AppBackupStatus): Promise<boolean> {
    return this.#startTask(status, 'drill', () => this.api.backups.drill(refOf(status)));
  }

  /** Restores a point onto a device; the task's id, or the sentence why it did not start. */
  async restore(
    point: BackupPoint,
    toDeviceId: string,
  ): Promise<{ taskId: string } | { error: string }> {
    try {
      const { taskId } = await this.api.backups.restore({
        deviceId: point.deviceId,
        appId: point.appId,
        pointId: point.id,
        toDeviceId,
        ...(point.heldBy === undefined ? {} : { heldBy: point.heldBy }),
      });
      this.runs = {
        ...this.runs,
        [appKey({ deviceId: toDeviceId, appId: point.appId })]: { taskId, action: 'restore' },
      };
      await this.#tasks.refresh();
      return { taskId };
    } catch (error) {
      return { error: messageOf(error) };
    }
  }

  cancelTask(taskId: string): void {
    void this.#tasks.cancel(taskId);
  }

  setSchedule(status: AppBackupStatus, schedule: BackupSchedule): Promise<boolean> {
    return this.#change(status, 'schedule', () =>
      this.api.backups.setSchedule({ ...refOf(status), schedule }),
    );
  }

  /** Backs the app up to this computer (null) or to another prepared device. */
  setDestination(status: AppBackupStatus, deviceId: string | null): Promise<boolean> {
    return this.#change(status, 'destination', () =>
      this.api.backups.setDestination({
        ...refOf(status),
        destination: deviceId === null ? { kind: 'computer' } : { kind: 'device', deviceId },
      }),
    );
  }

  async #startTask(
    status: AppBackupStatus,
    action: 'run' | 'drill',
    call: () => Promise<{ taskId: string }>,
  ): Promise<boolean> {
    const key = appKey(status);
    return this.#actions.run(key, action, async () => {
      const { taskId } = await call();
      this.runs = { ...this.runs, [key]: { taskId, action } };
      // The task's events are already arriving; the list also covers a missed first one.
      await this.#tasks.refresh();
    });
  }

  async #change(
    status: AppBackupStatus,
    action: 'schedule' | 'destination',
    call: () => Promise<AppBackupStatus>,
  ): Promise<boolean> {
    const key = appKey(status);
    return this.#actions.run(key, action, async () => {
      const updated = await call();
      this.list = this.list.map((s) => (appKey(s) === key ? updated : s));
    });
  }
}

function newestFirst(points: readonly BackupPoint[]): BackupPoint[] {
  return [...points].sort((a, b) => b.takenAt - a.takenAt);
}
