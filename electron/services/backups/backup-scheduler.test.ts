import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstalledApp } from '../../../shared/model';
import { testClock } from '../apps/apps-test-kit';
import { silentLogger } from '../logger';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { BackupScheduler } from './backup-scheduler';
import type { BackupSchedulerDeps } from './backup-scheduler';
import type { AppBackupState } from './backup-state';
import { BackupStateStore } from './backup-state';

const H = 60 * 60_000;
let dir: string;
let state: BackupStateStore;
let ran: string[];
let refreshed: string[];
let busy: Set<string>;
const time = testClock(1_000 * H);

const app = (appId: string, s: InstalledApp['state'] = 'running') =>
  ({ deviceId: 'd1', appId, name: appId, state: s }) as InstalledApp;
let apps: InstalledApp[];

function scheduler() {
  const service: BackupSchedulerDeps['service'] = {
    run: async (_d, appId) => {
      ran.push(appId);
      await state.updateApp('d1', appId, time.now(), (a) => (a.lastBackupAt = time.now()));
      return `task-${appId}`;
    },
    finished: () => Promise.resolve(),
    busy: (_d, appId) => busy.has(appId),
    facts: (st: AppBackupState) => ({
      schedule: st.schedule,
      lastBackupAt: st.lastBackupAt,
      lastFailureAt: st.lastFailureAt,
      firstSeenAt: st.firstSeenAt,
    }),
    hourMs: H,
    publish: () => Promise.resolve(),
    tidy: () => Promise.resolve(),
    refreshPeer: (_d, appId) => {
      refreshed.push(appId);
      return Promise.resolve();
    },
  };
  return new BackupScheduler({
    service,
    state,
    monitor: { list: () => apps },
    clock: time.clock,
    sleep: time.sleep,
    log: silentLogger,
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-scheduler-'));
  state = new BackupStateStore(new AtomicJsonStore(dir));
  ran = [];
  refreshed = [];
  busy = new Set();
  apps = [app('counter'), app('calendar')];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const confirm = () =>
  state.update((d) => (d.repository = { path: '/b', kitConfirmed: true, createdAt: 0 }));

describe('the backup schedule', () => {
  it('runs nothing until the owner kept the recovery kit', async () => {
    await state.update((d) => (d.repository = { path: '/b', kitConfirmed: false, createdAt: 0 }));
    expect(await scheduler().tick()).toBe(0);
    expect(ran).toEqual([]);
  });

  it('backs up each new app at once, one after another, then daily', async () => {
    await confirm();
    const s = scheduler();
    expect(await s.tick()).toBe(2);
    expect(ran).toEqual(['counter', 'calendar']);
    time.advance(23 * H);
    expect(await s.tick()).toBe(0);
    time.advance(1 * H);
    expect(await s.tick()).toBe(2);
  });

  it('catches up once on a run missed while the laptop slept', async () => {
    await confirm();
    const s = scheduler();
    await s.tick();
    time.advance(5 * 24 * H);
    ran = [];
    expect(await s.tick()).toBe(2);
    expect(await s.tick()).toBe(0);
  });

  it('skips an app that is busy or still installing, and one switched off', async () => {
    await confirm();
    busy.add('counter');
    apps = [app('counter'), app('calendar', 'installing'), app('notes')];
    await state.updateApp('d1', 'notes', time.now(), (a) => (a.schedule.enabled = false));
    expect(await scheduler().tick()).toBe(0);
  });

  it('never backs up a restore drill’s scratch copy', async () => {
    await confirm();
    apps = [app('counter'), { ...app('counter-drill'), name: 'Counter (restore check)' }];
    expect(await scheduler().tick()).toBe(1);
    expect(ran).toEqual(['counter']);
  });

  it('leaves an app backed up to another device to that device’s timer, and reads how it went', async () => {
    await confirm();
    await state.updateApp('d1', 'counter', time.now(), (a) => {
      a.destination = { kind: 'device', deviceId: 'd2' };
    });
    await scheduler().tick();
    expect(ran).toEqual(['calendar']);
    expect(refreshed).toEqual(['counter']);
  });
});
