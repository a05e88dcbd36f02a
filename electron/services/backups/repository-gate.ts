// One restic command at a time per repository. restic 0.14 has no --retry-lock, and forget,
// prune and check take an exclusive lock: a second app's backup, a restore or a drill started
// meanwhile would fail on Hearth's own lock. So every command on one repository waits its turn.
import type { Restic } from './restic';

export class RepositoryGate {
  #tail: Promise<unknown> = Promise.resolve();

  run<R>(work: () => Promise<R>): Promise<R> {
    const next = this.#tail.then(work, work);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

const gates = new Map<string, RepositoryGate>();

/** The gate of a repository (by its location), shared by everything in this process. */
export function gateOf(repository: string): RepositoryGate {
  let gate = gates.get(repository);
  if (!gate) {
    gate = new RepositoryGate();
    gates.set(repository, gate);
  }
  return gate;
}

/** `restic`, with each of its commands run through the repository's gate. */
export function gated(restic: Restic, gate: RepositoryGate): Restic {
  return new Proxy(restic, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        gate.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}
