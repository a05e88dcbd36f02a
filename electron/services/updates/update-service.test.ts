import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HearthError, errorMessages } from '../../../shared/errors';
import type { AppUpdateStatus } from '../../../shared/model';
import type { CatalogService } from '../catalog/catalog-service';
import { silentLogger } from '../logger';
import { AtomicJsonStore } from '../store/atomic-json-store';
import type { UpdateRunner, UpdateStanding } from './update-runner';
import { UpdatePolicyStore } from './update-policy-store';
import { UpdateService } from './update-service';
import { catalogWith, counterIndex, counterVersion, fakeMonitor } from './update-test-kit';

class FakeRunner implements UpdateRunner {
  starts: string[] = [];
  standings = new Map<string, UpdateStanding>();
  #listeners: (() => void)[] = [];
  refuse: Error | null = null;

  start(deviceId: string, appId: string, version: string): Promise<{ taskId: string }> {
    if (this.refuse) return Promise.reject(this.refuse);
    this.starts.push(`${appId}@${version}`);
    return Promise.resolve({ taskId: `task-${this.starts.length}` });
  }
  goBack(): Promise<{ taskId: string }> {
    return Promise.resolve({ taskId: 'back' });
  }
  standing(deviceId: string, appId: string): UpdateStanding {
    return (
      this.standings.get(appId) ?? { previousVersion: null, runningTaskId: null, lastOutcome: null }
    );
  }
  onChange(listener: () => void): () => void {
    this.#listeners.push(listener);
    return () => undefined;
  }
  changed(): void {
    for (const l of this.#listeners) l();
  }
}

describe('UpdateService', () => {
  let dir: string;
  let store: AtomicJsonStore;
  let catalog: CatalogService;
  let published: AppUpdateStatus[][];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-updates-'));
    store = new AtomicJsonStore(join(dir, 'state'));
    published = [];
    catalog = await catalogWith(
      dir,
      counterIndex([
        counterVersion('1.0.0', ['qemu-aarch64']),
        counterVersion('2.0.0', ['qemu-aarch64'], 'Counts twice as fast.'),
      ]),
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const monitor = fakeMonitor([
    { appId: 'counter', version: '1.0.0' },
    { appId: 'mine', version: 'file 0123456789ab' },
  ]);

  function service(runner: UpdateRunner = new FakeRunner(), catalogOf = () => catalog) {
    return new UpdateService({
      monitor,
      catalog: () => Promise.resolve(catalogOf()),
      runner,
      policies: new UpdatePolicyStore(store),
      clock: { now: () => 5_000 },
      log: silentLogger,
      publish: (list) => published.push(list),
    });
  }

  it('lists an offer with its notes for a catalog app, none for one from a file', async () => {
    const list = await service().list();
    expect(list.map((s) => [s.appName, s.installedVersion, s.available])).toEqual([
      ['Counter', '1.0.0', { version: '2.0.0', releaseNotes: 'Counts twice as fast.' }],
      ['mine', 'file 0123456789ab', null],
    ]);
    expect(list[0]).toMatchObject({ policy: 'ask', previousVersion: null, lastOutcome: null });
    expect(list[0]).not.toHaveProperty('catalogProblem');
  });

  it('still lists the apps, without offers, when the catalogs cannot be read', async () => {
    const updates = new UpdateService({
      monitor,
      catalog: () => Promise.reject(new Error('the bundled catalog is missing')),
      runner: new FakeRunner(),
      policies: new UpdatePolicyStore(store),
      clock: { now: () => 5_000 },
      log: silentLogger,
      publish: () => undefined,
    });
    expect((await updates.list()).map((s) => [s.appName, s.available])).toEqual([
      ['Counter', null],
      ['mine', null],
    ]);
  });

  it('asks by default: an offer alone starts nothing; the owner’s start takes the offered version', async () => {
    const runner = new FakeRunner();
    const updates = service(runner);
    await updates.check();
    await updates.settled();
    expect(runner.starts).toEqual([]);
    expect(await updates.start(monitor.known[0]!.device.id, 'counter')).toEqual({
      taskId: 'task-1',
    });
    expect(runner.starts).toEqual(['counter@2.0.0']);
    await expect(updates.start(monitor.known[0]!.device.id, 'mine')).rejects.toThrow(
      'mine has no newer version to update to. Check for updates, then try again.',
    );
    await expect(updates.start(monitor.known[0]!.device.id, 'nothing')).rejects.toMatchObject({
      code: 'APP_NOT_ON_DEVICE',
    });
  });

  it('updates by itself once per offered version, never while a task runs, and remembers it', async () => {
    const runner = new FakeRunner();
    const deviceId = monitor.known[0]!.device.id;
    runner.standings.set('counter', {
      previousVersion: null,
      runningTaskId: 'backup-or-update',
      lastOutcome: null,
    });
    const updates = service(runner);
    expect((await updates.setPolicy(deviceId, 'counter', 'auto')).policy).toBe('auto');
    await updates.settled();
    expect(runner.starts).toEqual([]); // a task of this app runs

    runner.standings.delete('counter');
    runner.changed();
    await updates.settled();
    expect(runner.starts).toEqual(['counter@2.0.0']);
    updates.changed();
    runner.changed();
    await updates.settled();
    expect(runner.starts).toEqual(['counter@2.0.0']); // once, although it is still offered

    // Hearth restarted: the same version is not tried again.
    const restarted = service(runner);
    restarted.changed();
    await restarted.settled();
    expect(runner.starts).toEqual(['counter@2.0.0']);

    // The catalog publishes 3.0.0: that one is started too.
    const newer = await catalogWith(
      join(dir),
      counterIndex([
        counterVersion('1.0.0', ['qemu-aarch64']),
        counterVersion('3.0.0', ['qemu-aarch64']),
      ]),
    );
    const later = service(runner, () => newer);
    later.changed();
    await later.settled();
    expect(runner.starts).toEqual(['counter@2.0.0', 'counter@3.0.0']);
  });

  it('shows an automatic update that could not start as a failed outcome', async () => {
    const runner = new FakeRunner();
    runner.refuse = new HearthError('BACKUP_BUSY');
    const updates = service(runner);
    await updates.setPolicy(monitor.known[0]!.device.id, 'counter', 'auto');
    await updates.settled();
    const counter = published.at(-1)!.find((s) => s.appId === 'counter')!;
    expect(counter.lastOutcome).toEqual({
      at: 5_000,
      kind: 'failed',
      message: `Hearth did not update Counter to 2.0.0 by itself: ${errorMessages.BACKUP_BUSY}`,
    });
    await expect(updates.start(monitor.known[0]!.device.id, 'counter')).rejects.toThrow(
      errorMessages.BACKUP_BUSY,
    );
  });

  it('keeps the runner’s own outcome when it has one', async () => {
    const runner = new FakeRunner();
    runner.refuse = new Error('busy');
    const outcome = {
      at: 1,
      kind: 'rolled-back' as const,
      message: 'Counter 2.0.0 did not start.',
    };
    runner.standings.set('counter', {
      previousVersion: '0.9.0',
      runningTaskId: null,
      lastOutcome: outcome,
    });
    const updates = service(runner);
    await updates.setPolicy(monitor.known[0]!.device.id, 'counter', 'auto');
    await updates.settled();
    expect((await updates.list())[0]).toMatchObject({
      lastOutcome: outcome,
      previousVersion: '0.9.0',
    });
  });

  it('publishes on a change only, and says on the app what its catalog refused', async () => {
    const refusal =
      'The app catalog "Hearth apps" sent an older copy of itself than the one Hearth already has, so Hearth refused it and keeps using its own copy.';
    let problem: string | null = null;
    const refresh = vi.fn(() => Promise.resolve([]));
    const withProblem = {
      resolve: catalog.resolve.bind(catalog),
      refresh,
      list: async () => {
        const listing = await catalog.list();
        return {
          ...listing,
          catalogs: listing.catalogs.map((c) => ({
            ...c,
            problem: problem === null ? null : { code: 'INVALID_INPUT' as const, message: problem },
          })),
        };
      },
    } as unknown as CatalogService;
    const updates = service(new FakeRunner(), () => withProblem);
    await updates.check();
    await updates.check();
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(published).toHaveLength(1);
    problem = refusal;
    const list = await updates.check();
    expect(published).toHaveLength(2);
    expect(list[0]).toMatchObject({
      catalogProblem: refusal,
      available: { version: '2.0.0' },
    });
  });
});
