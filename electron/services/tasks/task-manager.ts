// Long work is a task: it has a title, progress, a checklist of steps, and can be
// cancelled through an AbortSignal. Every change is published as a snapshot so the UI
// (and the tray, later) can follow it.
import { randomUUID } from 'node:crypto';
import { HearthError, serializeError } from '../../../shared/errors';
import type { StepState, TaskProgress, TaskSnapshot, TaskStep } from '../../../shared/model';
import type { Clock } from '../clock';

export interface TaskSpec {
  kind: string;
  title: string;
  steps?: string[];
  cancellable?: boolean;
}

export interface TaskContext {
  readonly signal: AbortSignal;
  progress(done: number, total: number, unit?: TaskProgress['unit']): void;
  detail(text: string | null): void;
  step(index: number, state: StepState, note?: string): void;
  /** Throws a CANCELLED HearthError if the owner cancelled. */
  throwIfCancelled(): void;
  /**
   * From here on the work must run to its end (a restore swapping data in): throws if the
   * owner already cancelled, else takes Cancel away so a late press cannot misreport it.
   */
  uncancellable(): void;
}

export interface TaskOutcome<T> {
  value: T;
  summary?: string;
}

export interface TaskHandle<T> {
  id: string;
  /** Settles with the work's value; rejects with a HearthError on failure or cancel. */
  done: Promise<T>;
}

export interface TaskManagerOptions {
  clock: Clock;
  publish: (snapshot: TaskSnapshot) => void;
  /** Progress-only updates closer together than this are coalesced. */
  progressIntervalMs?: number;
  /** How many finished tasks to remember for the Activity view. */
  keepFinished?: number;
  newId?: () => string;
}

interface Entry {
  snapshot: TaskSnapshot;
  controller: AbortController;
  lastPublished: number;
}

export class TaskManager {
  readonly #tasks = new Map<string, Entry>();
  readonly #options: Required<TaskManagerOptions>;

  constructor(options: TaskManagerOptions) {
    this.#options = { progressIntervalMs: 100, keepFinished: 50, newId: randomUUID, ...options };
  }

  run<T>(spec: TaskSpec, work: (ctx: TaskContext) => Promise<TaskOutcome<T>>): TaskHandle<T> {
    const id = this.#options.newId();
    const controller = new AbortController();
    const entry: Entry = {
      controller,
      lastPublished: 0,
      snapshot: {
        id,
        kind: spec.kind,
        title: spec.title,
        state: 'running',
        progress: null,
        detail: null,
        steps: (spec.steps ?? []).map((label): TaskStep => ({ label, state: 'pending' })),
        cancellable: spec.cancellable ?? true,
        startedAt: this.#options.clock.now(),
        endedAt: null,
        summary: null,
        error: null,
      },
    };
    this.#tasks.set(id, entry);
    this.#publish(entry);

    const ctx = this.#contextFor(entry);
    const done = (async () => {
      try {
        const outcome = await work(ctx);
        // Work that ignored the signal still ends as cancelled: the owner asked.
        if (controller.signal.aborted) throw new HearthError('CANCELLED');
        this.#finish(entry, 'succeeded', { summary: outcome.summary ?? null });
        return outcome.value;
      } catch (error) {
        const cancelled = controller.signal.aborted;
        const serialized = cancelled
          ? new HearthError('CANCELLED').toJSON()
          : serializeError(error);
        for (const step of entry.snapshot.steps) {
          if (step.state === 'running') step.state = cancelled ? 'skipped' : 'failed';
          else if (step.state === 'pending') step.state = 'skipped';
        }
        this.#finish(entry, cancelled ? 'cancelled' : 'failed', {
          error: serialized,
          summary: cancelled ? 'Cancelled.' : serialized.message,
        });
        throw cancelled ? new HearthError('CANCELLED', undefined, { cause: error }) : error;
      }
    })();
    // A task's failure is reported through its snapshot; callers that don't await must
    // not crash the process with an unhandled rejection.
    done.catch(() => undefined);
    return { id, done };
  }

  cancel(id: string): boolean {
    const entry = this.#tasks.get(id);
    if (!entry) throw new HearthError('NOT_FOUND', 'That task is no longer listed.');
    if (entry.snapshot.state !== 'running' || !entry.snapshot.cancellable) return false;
    if (!entry.controller.signal.aborted) {
      entry.controller.abort(new HearthError('CANCELLED'));
      entry.snapshot.detail = 'Cancelling…';
      this.#publish(entry);
    }
    return true;
  }

  /** Cancels everything still running, e.g. when the app quits. */
  cancelAll(): void {
    for (const entry of this.#tasks.values()) {
      if (entry.snapshot.state === 'running') entry.controller.abort(new HearthError('CANCELLED'));
    }
  }

  list(): TaskSnapshot[] {
    return [...this.#tasks.values()].map((entry) => structuredClone(entry.snapshot)).reverse();
  }

  clearFinished(): TaskSnapshot[] {
    for (const [id, entry] of this.#tasks) {
      if (entry.snapshot.state !== 'running') this.#tasks.delete(id);
    }
    return this.list();
  }

  #contextFor(entry: Entry): TaskContext {
    const snap = entry.snapshot;
    const live = () => snap.state === 'running';
    return {
      uncancellable: () => {
        if (entry.controller.signal.aborted) throw new HearthError('CANCELLED');
        if (!snap.cancellable) return;
        snap.cancellable = false;
        this.#publish(entry);
      },
      signal: entry.controller.signal,
      progress: (done, total, unit = 'steps') => {
        if (!live()) return;
        const clamped = Math.max(0, Math.min(done, total));
        snap.progress = { done: clamped, total, unit };
        const now = this.#options.clock.now();
        const finished = clamped >= total;
        if (finished || now - entry.lastPublished >= this.#options.progressIntervalMs)
          this.#publish(entry);
      },
      detail: (text) => {
        if (!live()) return;
        snap.detail = text;
        this.#publish(entry);
      },
      step: (index, state, note) => {
        const step = snap.steps[index];
        if (!live() || !step) return;
        step.state = state;
        if (note === undefined) delete step.note;
        else step.note = note;
        this.#publish(entry);
      },
      throwIfCancelled: () => {
        if (entry.controller.signal.aborted) throw new HearthError('CANCELLED');
      },
    };
  }

  #finish(
    entry: Entry,
    state: TaskSnapshot['state'],
    fields: Pick<Partial<TaskSnapshot>, 'summary' | 'error'>,
  ): void {
    const snap = entry.snapshot;
    snap.state = state;
    snap.endedAt = this.#options.clock.now();
    snap.detail = null;
    snap.summary = fields.summary ?? null;
    snap.error = fields.error ?? null;
    if (state === 'succeeded' && snap.progress)
      snap.progress = { ...snap.progress, done: snap.progress.total };
    this.#publish(entry);
    this.#forgetOldFinished();
  }

  #forgetOldFinished(): void {
    const finished = [...this.#tasks.entries()].filter(([, e]) => e.snapshot.state !== 'running');
    for (const [id] of finished.slice(
      0,
      Math.max(0, finished.length - this.#options.keepFinished),
    )) {
      this.#tasks.delete(id);
    }
  }

  #publish(entry: Entry): void {
    entry.lastPublished = this.#options.clock.now();
    this.#options.publish(structuredClone(entry.snapshot));
  }
}
