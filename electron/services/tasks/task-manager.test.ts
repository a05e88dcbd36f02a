import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import type { TaskSnapshot } from '../../../shared/model';
import { TaskManager } from './task-manager';

function setup(keepFinished = 50) {
  let now = 1_000;
  let next = 0;
  const published: TaskSnapshot[] = [];
  const manager = new TaskManager({
    clock: { now: () => now },
    publish: (s) => published.push(s),
    keepFinished,
    newId: () => `task-${++next}`,
  });
  return { manager, published, advance: (ms: number) => (now += ms) };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('TaskManager', () => {
  it('publishes progress and ends at 100% with a summary', async () => {
    const { manager, published, advance } = setup();
    const handle = manager.run(
      { kind: 'demo', title: 'Copying', steps: ['One', 'Two'] },
      async (ctx) => {
        ctx.step(0, 'running');
        advance(200);
        ctx.progress(1, 2);
        ctx.step(0, 'done');
        ctx.step(1, 'already-done', 'Nothing to do.');
        return { value: 42, summary: 'All copied.' };
      },
    );
    await expect(handle.done).resolves.toBe(42);
    const last = published.at(-1)!;
    expect(last).toMatchObject({
      id: 'task-1',
      state: 'succeeded',
      summary: 'All copied.',
      endedAt: 1_200,
    });
    expect(last.progress).toEqual({ done: 2, total: 2, unit: 'steps' });
    expect(last.steps.map((s) => s.state)).toEqual(['done', 'already-done']);
    expect(published.some((s) => s.progress?.done === 1)).toBe(true);
  });

  it('coalesces rapid progress updates but always publishes the final one', async () => {
    const { manager, published } = setup();
    await manager.run({ kind: 'demo', title: 'Bytes' }, async (ctx) => {
      for (let i = 1; i <= 1000; i++) ctx.progress(i, 1000, 'bytes');
      return { value: undefined };
    }).done;
    const progressUpdates = published.filter((s) => s.state === 'running' && s.progress);
    expect(progressUpdates.length).toBeLessThan(5);
    expect(published.at(-1)!.progress).toEqual({ done: 1000, total: 1000, unit: 'bytes' });
  });

  it('cancels through the AbortSignal and marks unfinished steps skipped', async () => {
    const { manager, published } = setup();
    const started = deferred();
    const handle = manager.run(
      { kind: 'demo', title: 'Waiting', steps: ['Wait', 'After'] },
      (ctx) => {
        ctx.step(0, 'running');
        started.resolve();
        return new Promise<never>((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
        );
      },
    );
    await started.promise;
    expect(manager.cancel(handle.id)).toBe(true);
    await expect(handle.done).rejects.toMatchObject({ code: 'CANCELLED' });
    const last = published.at(-1)!;
    expect(last.state).toBe('cancelled');
    expect(last.steps.map((s) => s.state)).toEqual(['skipped', 'skipped']);
    expect(manager.cancel(handle.id)).toBe(false);
  });

  it('treats work that ignores the signal as cancelled all the same', async () => {
    const { manager } = setup();
    const gate = deferred();
    const handle = manager.run({ kind: 'demo', title: 'Stubborn' }, async () => {
      await gate.promise;
      return { value: 'late' };
    });
    manager.cancel(handle.id);
    gate.resolve();
    await expect(handle.done).rejects.toBeInstanceOf(HearthError);
    expect(manager.list()[0]!.state).toBe('cancelled');
  });

  it('reports failures with the owner-readable message, and hides internal errors', async () => {
    const { manager } = setup();
    const owned = manager.run({ kind: 'demo', title: 'Saving' }, () =>
      Promise.reject(new HearthError('DISK_FULL')),
    );
    const internal = manager.run({ kind: 'demo', title: 'Oops' }, () =>
      Promise.reject(new Error('ENOENT /secret/path')),
    );
    await expect(owned.done).rejects.toMatchObject({ code: 'DISK_FULL' });
    await expect(internal.done).rejects.toThrow('ENOENT');
    const [oops, saving] = manager.list();
    expect(saving!.error?.code).toBe('DISK_FULL');
    expect(oops!.error?.code).toBe('INTERNAL');
    expect(JSON.stringify(oops)).not.toContain('/secret/path');
  });

  it('refuses to cancel a task it does not know, and one that is not cancellable', async () => {
    const { manager } = setup();
    expect(() => manager.cancel('nope')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }) as Error,
    );
    const gate = deferred();
    const handle = manager.run({ kind: 'demo', title: 'Atomic', cancellable: false }, async () => {
      await gate.promise;
      return { value: 1 };
    });
    expect(manager.cancel(handle.id)).toBe(false);
    gate.resolve();
    await expect(handle.done).resolves.toBe(1);
  });

  it('lists newest first, clears finished tasks, and forgets the oldest beyond its limit', async () => {
    const { manager } = setup(2);
    for (let i = 0; i < 3; i++)
      await manager.run({ kind: 'demo', title: `T${i}` }, async () => ({ value: i })).done;
    const gate = deferred();
    manager.run({ kind: 'demo', title: 'Running' }, async () => {
      await gate.promise;
      return { value: 0 };
    });
    expect(manager.list().map((t) => t.title)).toEqual(['Running', 'T2', 'T1']);
    expect(manager.clearFinished().map((t) => t.title)).toEqual(['Running']);
    gate.resolve();
  });

  it('hands out copies, so a listener cannot change the task behind the manager', async () => {
    const { manager, published } = setup();
    await manager.run({ kind: 'demo', title: 'Copy' }, async () => ({ value: 0 })).done;
    published[0]!.title = 'changed';
    manager.list()[0]!.title = 'changed too';
    expect(manager.list()[0]!.title).toBe('Copy');
  });
});
