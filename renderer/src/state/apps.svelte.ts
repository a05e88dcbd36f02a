// The apps installed on the owner's devices: one list from apps:list, then replaced by
// every apps:changed event. Also runs the owner's commands (install, start, stop, …),
// remembers which install task belongs to which catalog app, and words what changed
// for the live region ("Counter is running.").
import type { HearthApi } from '../../../shared/hearth-api';
import type { InvokeRequest } from '../../../shared/ipc';
import type { ChosenImage, InstalledApp } from '../../../shared/model';
import { appStateSentence } from './app-words';
import { KeyedActions } from './keyed-actions.svelte';
import { messageOf } from './notices.svelte';
import type { NoticesState } from './notices.svelte';
import type { TasksState } from './tasks.svelte';

/** Which app on which device: the pair every apps:* call takes. */
export interface AppRef {
  deviceId: string;
  appId: string;
}

/** An install the owner started from the catalog: its task, and where it goes. */
export interface InstallRun {
  taskId: string;
  deviceId: string;
}

export type AppAction = 'start' | 'stop' | 'restart' | 'remove' | 'memory' | 'sleep';

/** The console keeps this many lines; older ones scroll away for good. */
export const consoleLineLimit = 2000;

export function appKey(ref: AppRef): string {
  return `${ref.deviceId}/${ref.appId}`;
}

export class AppsState {
  list = $state.raw<readonly InstalledApp[]>([]);
  /** Whether apps:list has answered (the empty state waits for it). */
  loaded = $state(false);
  /** Read by the aria-live region: what last changed, in words. */
  announcement = $state('');
  /** Install runs by catalog app id (the latest per app). */
  installs = $state.raw<Readonly<Record<string, InstallRun>>>({});
  readonly #actions = new KeyedActions<AppAction>();
  /** Apps with a command on its way, by appKey (and installs by `install/<id>`): their buttons wait. */
  get busy(): Readonly<Record<string, AppAction>> {
    return this.#actions.busy;
  }
  /** The latest install from a file: its task, and the app it becomes where. */
  fileInstall = $state.raw<(InstallRun & { appId: string }) | null>(null);

  readonly #api: HearthApi;
  readonly #tasks: TasksState;
  readonly #notices: NoticesState;
  #unsubscribe: (() => void) | null = null;

  constructor(api: HearthApi, tasks: TasksState, notices: NoticesState) {
    this.#api = api;
    this.#tasks = tasks;
    this.#notices = notices;
  }

  async start(): Promise<void> {
    // Subscribe before listing, so nothing that happens in between is missed.
    this.#unsubscribe ??= this.#api.on('apps:changed', (apps) => this.#receive(apps));
    try {
      const listed = await this.#api.apps.list();
      // An event that arrived meanwhile is at least as fresh as this answer.
      if (!this.loaded) this.list = listed;
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.loaded = true;
    }
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** The installed copies of one catalog app, on whichever devices have it. */
  copiesOf(appId: string): InstalledApp[] {
    return this.list.filter((app) => app.appId === appId);
  }

  /** Starts installing; the task's progress shows on the app's catalog card. */
  async install(appId: string, deviceId: string): Promise<void> {
    await this.#actions.run(
      `install/${appId}`,
      'start',
      async () => {
        const { taskId } = await this.#api.apps.install({ deviceId, appId });
        this.installs = { ...this.installs, [appId]: { taskId, deviceId } };
        // The task's events are already arriving; the list also covers a missed first one.
        await this.#tasks.refresh();
      },
      (error) => this.#notices.report(error),
    );
  }

  /** Asks the app to open its file dialog; the sentence comes back if the file will not do. */
  async chooseImage(): Promise<{ image: ChosenImage | null; error: string | null }> {
    try {
      return { image: await this.#api.apps.chooseImage(), error: null };
    } catch (error) {
      return { image: null, error: messageOf(error) };
    }
  }

  /** Starts installing a chosen file; null when it started, else the sentence why not. */
  async installFromFile(request: InvokeRequest<'apps:installFromFile'>): Promise<string | null> {
    try {
      const { taskId, appId } = await this.#api.apps.installFromFile(request);
      this.fileInstall = { taskId, deviceId: request.deviceId, appId };
      await this.#tasks.refresh();
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  cancelInstall(taskId: string): void {
    void this.#tasks.cancel(taskId);
  }

  startApp(app: InstalledApp): Promise<boolean> {
    return this.#run(app, 'start', () => this.#api.apps.start(refOf(app)));
  }

  stopApp(app: InstalledApp): Promise<boolean> {
    return this.#run(app, 'stop', () => this.#api.apps.stop(refOf(app)));
  }

  restartApp(app: InstalledApp): Promise<boolean> {
    return this.#run(app, 'restart', () => this.#api.apps.restart(refOf(app)));
  }

  async setMemory(app: InstalledApp, memoryMiB: number): Promise<boolean> {
    return this.#run(app, 'memory', () => this.#api.apps.setMemory({ ...refOf(app), memoryMiB }));
  }

  async setSleep(app: InstalledApp, idleMinutes: number | null): Promise<boolean> {
    return this.#run(app, 'sleep', () => this.#api.apps.setSleep({ ...refOf(app), idleMinutes }));
  }

  /**
   * Removes the app. Its data stays on the device unless the owner typed the app's exact
   * name; only then is the typed text sent, and the app checks it again.
   */
  async remove(app: InstalledApp, typedName: string): Promise<boolean> {
    const deleteData = typedName === app.name;
    let dataDeleted = false;
    const done = await this.#run(app, 'remove', async () => {
      const answer = await this.#api.apps.remove({
        ...refOf(app),
        ...(deleteData ? { confirmDeleteData: typedName } : {}),
      });
      dataDeleted = answer.dataDeleted;
    });
    if (done) {
      this.announcement = dataDeleted
        ? `${app.name} and its data were removed from ${app.deviceName}.`
        : `${app.name} was removed. Its data is kept on ${app.deviceName}.`;
    }
    return done;
  }

  /** Follows one app's console while it is shown; close() when it is hidden. */
  openConsole(app: AppRef): AppConsole {
    const feed = new AppConsole(this.#api, this.#notices, refOf(app));
    void feed.start();
    return feed;
  }

  async #run(app: InstalledApp, action: AppAction, call: () => Promise<unknown>): Promise<boolean> {
    return this.#actions.run(appKey(app), action, call, (error) => this.#notices.report(error));
  }

  #receive(apps: InstalledApp[]): void {
    const before: Record<string, InstalledApp> = {};
    for (const app of this.list) before[appKey(app)] = app;
    if (this.loaded) {
      // Say what changed since the last report; the first list is read, not announced.
      const sentences = apps
        .filter((app) => before[appKey(app)]?.state !== app.state)
        .map((app) => appStateSentence(app))
        .filter((sentence) => sentence !== null);
      if (sentences.length > 0) this.announcement = sentences.join(' ');
    }
    // Every event carries the whole list, decoded anew: an app that did not change keeps the
    // object its card already shows, so only the cards of apps that changed are drawn again
    // (with a thousand apps, drawing every card took most of a frame; bench/apps-render.ts).
    this.list = apps.map((app) => {
      const shown = before[appKey(app)];
      return shown && JSON.stringify(shown) === JSON.stringify(app) ? shown : app;
    });
    this.loaded = true;
  }
}

/** One app's console: the recent lines, then each apps:console batch for this app. */
export class AppConsole {
  lines = $state.raw<readonly string[]>([]);
  /** apps:console has answered with the recent lines. */
  loaded = $state(false);

  readonly #api: HearthApi;
  readonly #notices: NoticesState;
  readonly #ref: AppRef;
  #unsubscribe: (() => void) | null = null;

  constructor(api: HearthApi, notices: NoticesState, ref: AppRef) {
    this.#api = api;
    this.#notices = notices;
    this.#ref = ref;
  }

  async start(): Promise<void> {
    // Lines that arrive before the recent ones are kept and follow them.
    let early: string[] = [];
    this.#unsubscribe ??= this.#api.on('apps:console', ({ deviceId, appId, lines }) => {
      if (deviceId !== this.#ref.deviceId || appId !== this.#ref.appId) return;
      if (this.loaded) this.#append(lines);
      else early = [...early, ...lines];
    });
    try {
      const { lines } = await this.#api.apps.console(this.#ref);
      this.lines = lines.slice(-consoleLineLimit);
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.loaded = true;
      this.#append(early);
    }
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const next = [...this.lines, ...lines];
    this.lines = next.length > consoleLineLimit ? next.slice(-consoleLineLimit) : next;
  }
}

/** Only the reference of an app (or of anything that names one), as the API takes it. */
export function refOf(app: AppRef): AppRef {
  return { deviceId: app.deviceId, appId: app.appId };
}
