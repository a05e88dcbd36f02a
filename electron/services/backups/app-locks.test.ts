import { describe, expect, it } from 'vitest';
import { AppLocks } from './app-locks';

describe('AppLocks', () => {
  it('refuses a second piece of work on the same app, not on another app', () => {
    const locks = new AppLocks();
    const release = locks.tryAcquire('d1', 'counter', 'backup');
    expect(() => locks.tryAcquire('d1', 'counter', 'restore')).toThrow(
      expect.objectContaining({ code: 'BACKUP_BUSY' }),
    );
    expect(locks.holder('d1', 'counter')).toBe('backup');
    locks.tryAcquire('d1', 'calendar', 'backup')();
    locks.tryAcquire('d2', 'counter', 'backup')();
    release();
    release(); // twice is harmless
    expect(locks.holder('d1', 'counter')).toBeNull();
    locks.tryAcquire('d1', 'counter', 'update')();
  });

  it('tells whether any app has work running, for a restart to update', () => {
    const locks = new AppLocks();
    expect(locks.anyHeld()).toBe(false);
    const backup = locks.tryAcquire('d1', 'counter', 'backup');
    const restore = locks.tryAcquire('d2', 'calendar', 'restore');
    backup();
    expect(locks.anyHeld()).toBe(true);
    restore();
    expect(locks.anyHeld()).toBe(false);
  });

  it('lets an update wait for a running backup, then take the app', async () => {
    const locks = new AppLocks();
    const release = locks.tryAcquire('d1', 'counter', 'backup');
    const order: string[] = [];
    const waiting = locks.acquire('d1', 'counter', 'update').then((r) => {
      order.push('update');
      return r;
    });
    await Promise.resolve();
    order.push('backup done');
    release();
    const releaseUpdate = await waiting;
    expect(order).toEqual(['backup done', 'update']);
    expect(locks.holder('d1', 'counter')).toBe('update');
    releaseUpdate();
  });

  it('stops waiting when cancelled', async () => {
    const locks = new AppLocks();
    locks.tryAcquire('d1', 'counter', 'backup');
    const controller = new AbortController();
    const waiting = locks.acquire('d1', 'counter', 'update', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
