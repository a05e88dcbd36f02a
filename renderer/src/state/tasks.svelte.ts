// Running and finished tasks, newest first: one list from tasks:list, then kept fresh
// by tasks:updated events. Also holds the sentence announced when a task ends.
import type { TaskSnapshot } from '../../../shared/model';
import { LiveState } from './live-state.svelte';
import { announcementFor, isFinished } from './task-words';

export class TasksState extends LiveState {
  // Snapshots are replaced whole on every event, never mutated: raw state is enough,
  // and a household has a handful of tasks, so an array beats a keyed structure.
  #tasks = $state.raw<readonly TaskSnapshot[]>([]);
  /** Whether tasks:list has answered (the empty state waits for it). */
  loaded = $state(false);
  /** Read by an aria-live region: the last task that ended, in words. */
  announcement = $state('');

  readonly list = $derived(
    [...this.#tasks].sort((a, b) => b.startedAt - a.startedAt || b.id.localeCompare(a.id)),
  );
  readonly hasFinished = $derived(this.#tasks.some(isFinished));

  async start(): Promise<void> {
    // Subscribe before listing, so nothing that happens in between is missed.
    this.listen(() => this.api.on('tasks:updated', (task) => this.#receive(task)));
    await this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const listed = await this.api.tasks.list();
      let next = this.#tasks;
      for (const task of listed) next = upsert(next, task);
      this.#tasks = next;
    } catch (error) {
      this.notices.report(error);
    } finally {
      this.loaded = true;
    }
  }

  async cancel(id: string): Promise<void> {
    try {
      await this.api.tasks.cancel({ id });
    } catch (error) {
      this.notices.report(error);
    }
  }

  async clearFinished(): Promise<void> {
    try {
      this.#tasks = await this.api.tasks.clearFinished();
    } catch (error) {
      this.notices.report(error);
    }
  }

  #receive(task: TaskSnapshot): void {
    const previous = this.#tasks.find((t) => t.id === task.id);
    const next = upsert(this.#tasks, task);
    if (next === this.#tasks) return;
    if (isFinished(task) && (!previous || !isFinished(previous))) {
      this.announcement = announcementFor(task);
    }
    this.#tasks = next;
  }
}

/** The list with `incoming` in it, or the same list if what we hold is fresher. */
function upsert(tasks: readonly TaskSnapshot[], incoming: TaskSnapshot): readonly TaskSnapshot[] {
  const index = tasks.findIndex((t) => t.id === incoming.id);
  if (index === -1) return [...tasks, incoming];
  const known = tasks[index]!;
  if (fresher(known, incoming) === known) return tasks;
  return tasks.with(index, incoming);
}

/**
 * A list answer can cross paths with events: keep whichever snapshot is further along,
 * so a late answer never drags a finished task back to "Running".
 */
function fresher(known: TaskSnapshot, incoming: TaskSnapshot): TaskSnapshot {
  if (isFinished(known) && !isFinished(incoming)) return known;
  if (isFinished(incoming) && !isFinished(known)) return incoming;
  const knownDone = known.progress?.done ?? 0;
  const incomingDone = incoming.progress?.done ?? 0;
  return incomingDone < knownDone ? known : incoming;
}
