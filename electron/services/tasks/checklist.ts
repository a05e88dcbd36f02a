// A task's checklist: each step is marked running, then done / already done (with the note
// the owner reads) or failed (with the error's sentence), and progress moves step by step.
// Provisioning, installs and the work to come (backups, updates) all run their steps here.
import { HearthError } from '../../../shared/errors';
import type { TaskContext } from './task-manager';

export interface StepOutcome<T> {
  value: T;
  /** Default 'done'; 'already-done' when the step found nothing to change. */
  state?: 'done' | 'already-done';
  note?: string;
}

export class Checklist {
  readonly #ctx: TaskContext;
  readonly #labels: readonly string[];
  #index = 0;

  constructor(ctx: TaskContext, labels: readonly string[]) {
    this.#ctx = ctx;
    this.#labels = labels;
  }

  /** Runs the next step. A failure marks it failed (unless cancelled) and is rethrown. */
  async step<T>(work: () => Promise<StepOutcome<T>>): Promise<T> {
    const ctx = this.#ctx;
    ctx.throwIfCancelled();
    ctx.step(this.#index, 'running');
    ctx.detail(`${this.#labels[this.#index] ?? ''}…`);
    ctx.progress(this.#index, this.#labels.length);
    try {
      const outcome = await work();
      ctx.step(this.#index, outcome.state ?? 'done', outcome.note);
      this.#index++;
      ctx.progress(this.#index, this.#labels.length);
      return outcome.value;
    } catch (error) {
      if (!ctx.signal.aborted)
        ctx.step(
          this.#index,
          'failed',
          error instanceof HearthError ? error.message : new HearthError('INTERNAL').message,
        );
      throw error;
    }
  }

  /** Progress part-way through the current step (`fraction` from 0 to 1). */
  within(fraction: number): void {
    const part = Math.min(Math.max(fraction, 0), 1);
    this.#ctx.progress(this.#index + part, this.#labels.length);
  }
}
