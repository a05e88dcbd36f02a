import { describe, expect, it } from 'vitest';
import type { DiskUsage } from './alert-policy';
import { DiskWatch } from './disk-watch';

describe('DiskWatch', () => {
  it('reads each answering device at most every few minutes, and keeps going past a failure', async () => {
    let now = 0;
    const reads: string[] = [];
    const seen: [string, DiskUsage | null][] = [];
    const watch = new DiskWatch({
      clock: { now: () => now },
      everyMs: 60_000,
      read: (id) => {
        reads.push(id);
        return id === 'b'
          ? Promise.reject(new Error('lost'))
          : Promise.resolve({ usedBytes: 9, totalBytes: 10 });
      },
      observe: (id, usage) => {
        seen.push([id, usage]);
        return Promise.resolve();
      },
    });
    await watch.poll(['a', 'b']);
    now += 30_000;
    await watch.poll(['a', 'b']);
    expect(reads).toEqual(['a', 'b']);
    expect(seen).toEqual([['a', { usedBytes: 9, totalBytes: 10 }]]);
    now += 30_000;
    await watch.poll(['a']);
    expect(reads).toEqual(['a', 'b', 'a']);
  });
});
