import { describe, expect, it } from 'vitest';
import { RepositoryGate, gateOf } from './repository-gate';

describe('RepositoryGate', () => {
  it('runs one command at a time, in order, and a failure does not stop the next', async () => {
    const gate = new RepositoryGate();
    const order: string[] = [];
    let release!: () => void;
    const first = gate.run(
      () =>
        new Promise<void>((resolve) => {
          order.push('backup starts');
          release = () => {
            order.push('backup ends');
            resolve();
          };
        }),
    );
    const second = gate.run(() => {
      order.push('check starts');
      return Promise.reject(new Error('damaged'));
    });
    const third = gate.run(() => {
      order.push('forget starts');
      return Promise.resolve(3);
    });
    await Promise.resolve();
    expect(order).toEqual(['backup starts']);
    release();
    await first;
    await expect(second).rejects.toThrow('damaged');
    expect(await third).toBe(3);
    expect(order).toEqual(['backup starts', 'backup ends', 'check starts', 'forget starts']);
  });

  it('is one gate per repository', () => {
    expect(gateOf('/a')).toBe(gateOf('/a'));
    expect(gateOf('/a')).not.toBe(gateOf('/b'));
  });
});
