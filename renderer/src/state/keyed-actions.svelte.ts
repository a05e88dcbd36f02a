// One request at a time per app (by appKey, or any other key): which one is on its way, so its
// buttons wait, and the owner's sentence for the last one refused, until the next try. The
// apps, updates and backups states each keep one.
import { messageOf } from './notices.svelte';

export class KeyedActions<A extends string> {
  /** Keys with a request on its way, and which. */
  busy = $state.raw<Readonly<Record<string, A>>>({});
  /** The last refusal per key, as the owner's sentence, until the next try. */
  problems = $state.raw<Readonly<Record<string, string>>>({});

  /**
   * Runs `call` as `action` for `key`, unless a request for `key` is already on its way: true
   * when it ran and succeeded. A failure is kept in `problems`, or given to `onError` instead
   * (the apps state reports through its notices).
   */
  async run(
    key: string,
    action: A,
    call: () => Promise<unknown>,
    onError?: (error: unknown) => void,
  ): Promise<boolean> {
    if (this.busy[key]) return false;
    this.busy = { ...this.busy, [key]: action };
    if (!onError) this.problems = without(this.problems, key);
    try {
      await call();
      return true;
    } catch (error) {
      if (onError) onError(error);
      else this.problems = { ...this.problems, [key]: messageOf(error) };
      return false;
    } finally {
      this.busy = without(this.busy, key);
    }
  }
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}
