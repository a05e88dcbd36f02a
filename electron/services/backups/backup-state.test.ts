import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { BackupStateStore, newAppState } from './backup-state';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'backup-state-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('BackupStateStore', () => {
  it('gives a new app the daily schedule to this computer, and remembers results across a restart', async () => {
    const state = new BackupStateStore(new AtomicJsonStore(dir));
    const app = await state.app('d1', 'counter', 500);
    expect(app).toMatchObject({
      firstSeenAt: 500,
      schedule: { enabled: true, everyHours: 24 },
      destination: { kind: 'computer' },
      lastBackupAt: null,
    });
    await state.updateApp('d1', 'counter', 600, (a) => {
      a.lastBackupAt = 700;
      a.sizeBytes = 4096;
    });
    await state.update((d) => (d.repository = { path: '/b', kitConfirmed: true, createdAt: 1 }));

    const again = new BackupStateStore(new AtomicJsonStore(dir));
    expect(await again.app('d1', 'counter', 9_999)).toMatchObject({
      firstSeenAt: 500,
      lastBackupAt: 700,
      sizeBytes: 4096,
    });
    expect((await again.read()).repository).toEqual({
      path: '/b',
      kitConfirmed: true,
      createdAt: 1,
    });
  });

  it('reads a document from before runs could be skipped: no last point, nothing else lost', async () => {
    const { lastPoint: _, ...before } = newAppState(500);
    await new AtomicJsonStore(dir).save('backups', {
      repository: null,
      apps: { 'd1/counter': { ...before, lastBackupAt: 700 } },
    });
    const app = await new BackupStateStore(new AtomicJsonStore(dir)).app('d1', 'counter', 900);
    expect(app).toMatchObject({ firstSeenAt: 500, lastBackupAt: 700, lastPoint: null });
  });

  it('keeps changes made at the same time (they are applied one after another)', async () => {
    const state = new BackupStateStore(new AtomicJsonStore(dir));
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((id, i) => state.updateApp('d1', id, i, (a) => (a.sizeBytes = i))),
    );
    const doc = await new BackupStateStore(new AtomicJsonStore(dir)).read();
    expect(Object.keys(doc.apps).sort()).toEqual(['d1/a', 'd1/b', 'd1/c', 'd1/d']);
  });

  it('does not hand out its own copy: changing what read() returned changes nothing', async () => {
    const state = new BackupStateStore(new AtomicJsonStore(dir));
    const doc = await state.read();
    doc.repository = { path: '/x', kitConfirmed: true, createdAt: 0 };
    expect((await state.read()).repository).toBeNull();
  });
});
