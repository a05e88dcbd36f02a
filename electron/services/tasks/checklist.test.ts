import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import type { TaskSnapshot } from '../../../shared/model';
import { Checklist } from './checklist';
import type { TaskContext } from './task-manager';
import { TaskManager } from './task-manager';

const labels = ['Look', 'Change', 'Check'] as const;

function setup() {
  let now = 1_000;
  const published: TaskSnapshot[] = [];
  const tasks = new TaskManager({
    clock: { now: () => now },
    publish: (s) => published.push(s),
    newId: () => 'task-1',
  });
  const run = (work: (list: Checklist, ctx: TaskContext) => Promise<unknown>) => {
    const handle = tasks.run({ kind: 'demo', title: 'Demo', steps: [...labels] }, async (ctx) => ({
      value: await work(new Checklist(ctx, labels), ctx),
    }));
    return { handle, cancel: () => tasks.cancel(handle.id) };
  };
  return {
    run,
    tasks,
    published,
    now: () => tasks.list()[0]!,
    advance: (ms: number) => (now += ms),
  };
}

describe('Checklist', () => {
  it('marks each step running, then done or already done with its note', async () => {
    const s = setup();
    const seen: string[][] = [];
    const { handle } = s.run(async (list) => {
      const a = await list.step(async () => {
        seen.push(s.now().steps.map((step) => step.state));
        expect(s.now().detail).toBe('Look…');
        return { value: 1, note: 'Looked.' };
      });
      const b = await list.step(async () => {
        seen.push(s.now().steps.map((step) => step.state));
        return { value: 2, state: 'already-done', note: 'Nothing to change.' };
      });
      const c = await list.step(() => Promise.resolve({ value: 3 }));
      return a + b + c;
    });
    await expect(handle.done).resolves.toBe(6);
    expect(seen).toEqual([
      ['running', 'pending', 'pending'],
      ['done', 'running', 'pending'],
    ]);
    expect(s.now().steps).toEqual([
      { label: 'Look', state: 'done', note: 'Looked.' },
      { label: 'Change', state: 'already-done', note: 'Nothing to change.' },
      { label: 'Check', state: 'done' },
    ]);
    expect(s.now().progress).toEqual({ done: 3, total: 3, unit: 'steps' });
  });

  it('moves progress step by step, and part-way through a step', async () => {
    const s = setup();
    const progress: (number | undefined)[] = [];
    const { handle } = s.run(async (list) => {
      await list.step(() => Promise.resolve({ value: undefined }));
      progress.push(s.now().progress?.done);
      await list.step(async () => {
        list.within(0.5);
        progress.push(s.now().progress?.done);
        list.within(7);
        progress.push(s.now().progress?.done);
        list.within(-1);
        progress.push(s.now().progress?.done);
        return { value: undefined };
      });
      progress.push(s.now().progress?.done);
    });
    await handle.done;
    expect(progress).toEqual([1, 1.5, 2, 1, 2]);
  });

  it('marks a failed step with the error’s sentence, and the rest skipped', async () => {
    const s = setup();
    const { handle } = s.run(async (list) => {
      await list.step(() => Promise.resolve({ value: undefined }));
      await list.step(() => Promise.reject(new HearthError('DISK_NEARLY_FULL')));
      await list.step(() => Promise.resolve({ value: undefined }));
    });
    await expect(handle.done).rejects.toMatchObject({ code: 'DISK_NEARLY_FULL' });
    expect(s.now().state).toBe('failed');
    expect(s.now().steps).toEqual([
      { label: 'Look', state: 'done' },
      {
        label: 'Change',
        state: 'failed',
        note: 'The device is nearly out of storage space. Free some space on it and try again.',
      },
      { label: 'Check', state: 'skipped' },
    ]);
  });

  it('never shows the owner an internal error’s text', async () => {
    const s = setup();
    const { handle } = s.run((list) =>
      list.step(() => Promise.reject(new Error('ENOENT: /home/owner/.config/secret'))),
    );
    await expect(handle.done).rejects.toThrow('ENOENT');
    expect(s.now().steps[0]).toEqual({
      label: 'Look',
      state: 'failed',
      note: 'Something went wrong inside Hearth. Please try again; if it keeps happening, restart Hearth.',
    });
    expect(JSON.stringify(s.published)).not.toContain('secret');
  });

  it('does not call a cancelled step failed, and runs no step after a cancel', async () => {
    const s = setup();
    let ran = 0;
    const owner = { cancel: (): boolean => false };
    const started = s.run(async (list, ctx) => {
      await list.step(async () => {
        await Promise.resolve();
        ran++;
        owner.cancel();
        throw ctx.signal.reason as Error;
      });
    });
    owner.cancel = started.cancel;
    await expect(started.handle.done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(s.now().state).toBe('cancelled');
    expect(s.now().steps.map((step) => step.state)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(s.now().steps[0]?.note).toBeUndefined();

    const t = setup();
    const later = { cancel: (): boolean => false };
    const second = t.run(async (list) => {
      await list.step(async () => {
        await Promise.resolve();
        ran++;
        later.cancel();
        return { value: undefined };
      });
      await list.step(() => {
        ran++;
        return Promise.resolve({ value: undefined });
      });
    });
    later.cancel = second.cancel;
    await expect(second.handle.done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(ran).toBe(2);
    expect(t.now().steps.map((step) => step.state)).toEqual(['done', 'skipped', 'skipped']);
  });
});
