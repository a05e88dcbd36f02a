// Updates: per installed app, what its catalog offers and where its updates stand
// (updates:list, then every updates:changed), "Check for updates", the owner's policy, and the
// tasks that update an app or take it back to its previous version. A refusal comes back as
// the owner's sentence, shown on the app's card.
import type { HearthApi } from '../../../shared/hearth-api';
import type { AppUpdateStatus, TaskSnapshot } from '../../../shared/model';
import { appKey, refOf } from './apps.svelte';
import { KeyedActions } from './keyed-actions.svelte';
import { messageOf } from './notices.svelte';
import { AppStatusList } from './app-status-list.svelte';
import type { NoticesState } from './notices.svelte';
import type { TasksState } from './tasks.svelte';

export type UpdateAction = 'update' | 'go-back' | 'policy';

/** What the last "Check for updates" found, for the line beside the button. */
export type CheckResult =
  | { kind: 'checked'; at: number; offers: number; problems: string[] }
  | { kind: 'failed'; message: string };

export class UpdatesState extends AppStatusList<AppUpdateStatus> {
  /** "Check for updates" is on its way. */
  checking = $state(false);
  lastCheck = $state.raw<CheckResult | null>(null);
  readonly #actions = new KeyedActions<UpdateAction>();
  /** Apps with a request on its way, by appKey: their buttons wait. */
  get busy(): Readonly<Record<string, UpdateAction>> {
    return this.#actions.busy;
  }
  /** The latest update or "go back" task started here, by appKey. */
  runs = $state.raw<Readonly<Record<string, string>>>({});
  /** The last refusal per app, as the owner's sentence, until the next try. */
  get problems(): Readonly<Record<string, string>> {
    return this.#actions.problems;
  }

  readonly #tasks: TasksState;

  constructor(api: HearthApi, tasks: TasksState, notices: NoticesState) {
    super(api, notices);
    this.#tasks = tasks;
  }

  async start(): Promise<void> {
    // Subscribe before asking, so nothing that happens in between is missed.
    this.listen(() => this.api.on('updates:changed', (list) => this.received(list)));
    await this.fetch(() => this.api.updates.list());
  }

  /** The task to show for an app: the one running now, else the latest started here. */
  taskOf(status: AppUpdateStatus): TaskSnapshot | null {
    const id = status.runningTaskId ?? this.runs[appKey(status)] ?? null;
    return id ? (this.#tasks.list.find((t) => t.id === id) ?? null) : null;
  }

  /** Reads every catalog again; what it found is in lastCheck. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const list = await this.api.updates.check();
      this.received(list);
      // One sentence per catalog, however many of its apps are installed.
      const problems = list
        .flatMap((s) => (s.catalogProblem ? [s.catalogProblem] : []))
        .filter((p, i, all) => all.indexOf(p) === i);
      this.lastCheck = {
        kind: 'checked',
        at: Date.now(),
        offers: list.filter((s) => s.available !== null).length,
        problems,
      };
    } catch (error) {
      this.lastCheck = { kind: 'failed', message: messageOf(error) };
    } finally {
      this.checking = false;
    }
  }

  async setAutomatic(status: AppUpdateStatus, automatic: boolean): Promise<boolean> {
    return this.#act(status, 'policy', async () => {
      const updated = await this.api.updates.setPolicy({
        ...refOf(status),
        policy: automatic ? 'auto' : 'ask',
      });
      const key = appKey(status);
      this.list = this.list.map((s) => (appKey(s) === key ? updated : s));
    });
  }

  update(status: AppUpdateStatus): Promise<boolean> {
    return this.#act(status, 'update', async () => {
      const { taskId } = await this.api.updates.start(refOf(status));
      await this.#started(status, taskId);
    });
  }

  goBack(status: AppUpdateStatus, data: 'now' | 'before'): Promise<boolean> {
    return this.#act(status, 'go-back', async () => {
      const { taskId } = await this.api.updates.goBack({ ...refOf(status), data });
      await this.#started(status, taskId);
    });
  }

  cancelTask(taskId: string): void {
    void this.#tasks.cancel(taskId);
  }

  async #started(status: AppUpdateStatus, taskId: string): Promise<void> {
    this.runs = { ...this.runs, [appKey(status)]: taskId };
    // The task's events are already arriving; the list also covers a missed first one.
    await this.#tasks.refresh();
  }

  async #act(
    status: AppUpdateStatus,
    action: UpdateAction,
    call: () => Promise<void>,
  ): Promise<boolean> {
    return this.#actions.run(appKey(status), action, call);
  }
}

/** Whether the app came from a catalog (a file install's version reads "file 3f2a…"). */
export function fromCatalog(status: AppUpdateStatus): boolean {
  return !status.installedVersion.startsWith('file ');
}
