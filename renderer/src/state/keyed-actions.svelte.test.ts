import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { KeyedActions } from './keyed-actions.svelte';

/** A call that ends when the test says. */
function pending() {
  let end!: (error?: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    end = (error) => (error ? reject(error) : resolve());
  });
  return { call: () => promise, end };
}

describe('one request at a time per app', () => {
  it('marks the app busy while its request is on its way and refuses a second one', async () => {
    const actions = new KeyedActions<'run' | 'drill'>();
    const first = pending();
    const running = actions.run('pi/counter', 'run', first.call);
    expect(actions.busy).toEqual({ 'pi/counter': 'run' });
    // Another app is not held up; the same app is.
    expect(await actions.run('pi/counter', 'drill', () => Promise.resolve())).toBe(false);
    expect(await actions.run('pi/notes', 'drill', () => Promise.resolve())).toBe(true);
    first.end();
    expect(await running).toBe(true);
    expect(actions.busy).toEqual({});
  });

  it("keeps a refusal as the owner's sentence until the next try", async () => {
    const actions = new KeyedActions<'run'>();
    const refusal = new HearthError('BACKUP_BUSY');
    expect(await actions.run('pi/counter', 'run', () => Promise.reject(refusal))).toBe(false);
    expect(actions.busy).toEqual({});
    expect(actions.problems).toEqual({ 'pi/counter': refusal.message });
    const next = pending();
    const retry = actions.run('pi/counter', 'run', next.call);
    expect(actions.problems).toEqual({});
    next.end();
    expect(await retry).toBe(true);
  });

  it('gives a failure to onError instead, when there is one', async () => {
    const actions = new KeyedActions<'start'>();
    const told: unknown[] = [];
    const failed = new HearthError('CONNECTION_LOST');
    expect(
      await actions.run(
        'pi/counter',
        'start',
        () => Promise.reject(failed),
        (e) => told.push(e),
      ),
    ).toBe(false);
    expect(told).toEqual([failed]);
    expect(actions.problems).toEqual({});
  });
});
