// The Backups view's service over the fake device and a real repository: what the owner sees
// after "Back up now", a second one at once, a restore, and a repository found damaged.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppBackupStatus, TaskSnapshot } from '../../../shared/model';
import type { KnownApp } from '../apps/app-monitor';
import { appSpec, deviceRecord, testClock, testLauncher } from '../apps/apps-test-kit';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths, peerAccount } from '../device/layout';
import { FileKeyVault } from '../keys/file-key-vault';
import { silentLogger } from '../logger';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { TaskManager } from '../tasks/task-manager';
import { AppLocks } from './app-locks';
import { BackupRepository } from './backup-repository';
import { BackupService } from './backup-service';
import { BackupStateStore } from './backup-state';
import { PeerDestinations } from './peer-destination';
import type { TestRepo } from './restic-test-kit';
import { makeTestRepo } from './restic-test-kit';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const DEVICE = deviceRecord();
/** Another prepared device, which keeps the copies of DEVICE's apps that its timer sends. */
const KITCHEN = deviceRecord({ id: '5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5', name: 'Kitchen' });
let repo: TestRepo;
let fake: FakeDevice;
let kitchen: FakeDevice;
let state: BackupStateStore;
let password: () => Promise<string>;
let service: BackupService;
let statuses: AppBackupStatus[];
let tasks: Map<string, TaskSnapshot>;
let volume: Buffer;
let time: ReturnType<typeof testClock>;
const p = appPaths('counter');

beforeEach(async () => {
  repo = await makeTestRepo({ init: false });
  fake = new FakeDevice();
  kitchen = new FakeDevice();
  const image = randomBytes(32 * 1024);
  const spec = appSpec({ sha256: sha256(image) });
  fake.installed(spec);
  fake.files.set(p.image(spec.sha256), image);
  fake.files.set(p.current, Buffer.from(`-> images/${spec.sha256}`));
  volume = randomBytes(512 * 1024);
  fake.files.set(p.volume('storage'), Buffer.from(volume));
  const known: KnownApp = {
    device: DEVICE,
    spec,
    app: {
      deviceId: DEVICE.id,
      deviceName: DEVICE.name,
      appId: 'counter',
      name: 'Counter',
      version: '1.0.0',
      state: 'running',
      restarts: 0,
      runningSince: null,
      memoryBytes: null,
      memoryMiB: 32,
      links: [],
      message: null,
    },
  };
  time = testClock();
  const store = new AtomicJsonStore(join(repo.dir, 'state'));
  state = new BackupStateStore(store);
  tasks = new Map();
  const taskManager = new TaskManager({
    clock: time.clock,
    publish: (t) => tasks.set(t.id, t),
    progressIntervalMs: 0,
  });
  const client = (id: string) =>
    Promise.resolve(
      id === KITCHEN.id ? new DeviceClient(kitchen, KITCHEN.id) : new DeviceClient(fake, DEVICE.id),
    );
  const engine = (repository: string, password: string) =>
    Promise.resolve(repo.make({ repository, password }));
  const repository = new BackupRepository({
    state,
    vault: new FileKeyVault(join(repo.dir, 'vault')),
    clock: time.clock,
    documentsDir: repo.dir,
    engine,
    appNames: () => Promise.resolve(['Counter']),
    publish: () => undefined,
  });
  password = () => repository.password();
  const devices = {
    list: () => Promise.resolve([DEVICE, KITCHEN]),
    get: (id: string) => Promise.resolve(id === KITCHEN.id ? KITCHEN : DEVICE),
  };
  const publish = () => Promise.resolve();
  service = new BackupService({
    state,
    repository,
    peers: new PeerDestinations({
      client,
      devices,
      repository,
      state,
      tasks: taskManager,
      clock: time.clock,
      log: silentLogger,
      publish,
    }),
    engine,
    monitor: {
      list: () => [known.app],
      get: (d, a) => (d === DEVICE.id && a === 'counter' ? known : null),
      refreshDevice: () => Promise.resolve(),
      appIdsOn: () => ['counter'],
    },
    devices,
    client,
    tasks: taskManager,
    locks: new AppLocks(),
    clock: time.clock,
    sleep: time.sleep,
    probe: (c, _d, s) => c.consoleShows(s.appId, 'counter ready'),
    launcher: testLauncher,
    log: silentLogger,
    publish: (list) => (statuses = list),
    saveKit: () => Promise.resolve(null),
  });
  statuses = [];
});

afterEach(async () => {
  expect(fake.unknown).toEqual([]);
  expect(kitchen.unknown).toEqual([]);
  await repo.cleanup();
});

async function setUp() {
  await service.createRepository(repo.repository);
  await service.confirmKit();
}

async function finished(taskId: string) {
  await service.finished(taskId);
  return tasks.get(taskId)!;
}

describe('BackupService', { timeout: 60_000 }, () => {
  it('says what to do before backups are set up and the kit is kept', async () => {
    await expect(service.run(DEVICE.id, 'counter')).rejects.toMatchObject({
      code: 'BACKUPS_NOT_SET_UP',
    });
    await service.createRepository(repo.repository);
    await expect(service.run(DEVICE.id, 'counter')).rejects.toMatchObject({
      code: 'BACKUP_KIT_NOT_KEPT',
    });
  });

  it('lists no points, rather than an error, while the owner has not yet kept the kit', async () => {
    await expect(service.allPoints()).rejects.toMatchObject({ code: 'BACKUPS_NOT_SET_UP' });
    await service.createRepository(repo.repository);
    await expect(service.allPoints()).resolves.toEqual([]);
    await service.confirmKit();
    await finished(await service.run(DEVICE.id, 'counter'));
    expect(await service.allPoints()).toHaveLength(1);
  });

  it('backs up now: the list shows when, how big and that it was checked; a second at once is refused', async () => {
    await setUp();
    const id = await service.run(DEVICE.id, 'counter');
    await expect(service.run(DEVICE.id, 'counter')).rejects.toMatchObject({ code: 'BACKUP_BUSY' });
    const task = await finished(id);
    expect(task.state).toBe('succeeded');
    expect(task.summary).toMatch(/^Counter is backed up \(/);
    const [status] = await service.list();
    expect(status).toMatchObject({ lastError: null, runningTaskId: null, overdue: false });
    expect(status?.lastBackupAt).not.toBeNull();
    expect(status?.lastVerifiedAt).toBe(status?.lastBackupAt);
    expect(status?.sizeBytes).toBeGreaterThan(volume.length);
    expect(statuses.length).toBe(1);
    const points = await service.points(DEVICE.id, 'counter');
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ appName: 'Counter', volumes: ['storage'] });
  });

  it('restores a point: the data is back, the app runs', async () => {
    await setUp();
    await finished(await service.run(DEVICE.id, 'counter'));
    const [point] = await service.points(DEVICE.id, 'counter');
    fake.files.set(p.volume('storage'), Buffer.from('changed'));
    const task = await finished(
      await service.restore({
        deviceId: DEVICE.id,
        appId: 'counter',
        pointId: point!.id,
        toDeviceId: DEVICE.id,
      }),
    );
    expect(task.state).toBe('succeeded');
    expect(task.summary).toMatch(/^Counter is back as it was on /);
    expect(fake.files.get(p.volume('storage'))).toEqual(volume);
  });

  it('checks that the newest backup restores: a scratch copy boots on it and is removed', async () => {
    await setUp();
    await finished(await service.run(DEVICE.id, 'counter'));
    const task = await finished(await service.drill(DEVICE.id, 'counter'));
    expect(task.state).toBe('succeeded');
    expect(task.summary).toMatch(/^Counter’s backup of .+ restores and starts\.$/);
    const [status] = await service.list();
    expect(status?.lastDrill).toMatchObject({ ok: true, message: null });
    // It did boot: the scratch copy was started, and is stopped and gone now.
    expect(fake.operations).toContain('control counter-drill start');
    expect(fake.units.get('counter-drill')).toMatchObject({
      activeState: 'inactive',
      enabled: false,
    });
    expect([...fake.files.keys()].filter((f) => f.includes('counter-drill'))).toEqual([]);
    // The real app and its data were left alone.
    expect(fake.files.get(p.volume('storage'))).toEqual(volume);
  });

  it('tells the owner when the monthly full check finds the backups damaged', async () => {
    await setUp();
    await finished(await service.run(DEVICE.id, 'counter'));
    // Flip bytes in every pack: the next backup's check reads them back.
    for (const sub of await readdir(join(repo.repository, 'data'))) {
      for (const f of await readdir(join(repo.repository, 'data', sub))) {
        const path = join(repo.repository, 'data', sub, f);
        const bytes = await readFile(path);
        const at = Math.floor(bytes.length / 2);
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
        await writeFile(path, bytes);
      }
    }
    // A month on: this backup's check reads every pack back, not a sample.
    time.advance(31 * 24 * 60 * 60_000);
    const task = await finished(await service.run(DEVICE.id, 'counter'));
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('BACKUP_DAMAGED');
    const [status] = await service.list();
    expect(status?.lastError).toMatch(/damage/);
  });

  it('lists a copy the Kitchen device keeps through it, wherever the app’s backups go now, and restores it', async () => {
    await setUp();
    await finished(await service.run(DEVICE.id, 'counter'));
    const [here] = await service.points(DEVICE.id, 'counter');
    // The device's timer writes the laptop's format: the same tar, kept on the Kitchen device.
    const tar = new PassThrough();
    const chunks: Buffer[] = [];
    tar.on('data', (c: Buffer) => chunks.push(c));
    await repo
      .make({ repository: repo.repository, password: await password() })
      .dump(here!.id, '/counter.tar', tar);
    const held = 'f'.repeat(64);
    kitchen.heldTars.set(`counter ${held}`, Buffer.concat(chunks));
    const snapshot = {
      time: new Date(here!.takenAt + 60_000).toISOString(),
      paths: ['/counter.tar'],
      hostname: DEVICE.id,
      tags: ['hearth', 'app=counter', 'version=1.0.0'],
      id: held,
    };
    kitchen.heldListing = `${peerAccount(DEVICE.id)} ok ${JSON.stringify([snapshot])}\n`;

    // Its backups go to this computer, and the copy on the Kitchen device is still offered.
    const points = await service.points(DEVICE.id, 'counter');
    expect(points.map((pt) => [pt.id, pt.heldBy ?? 'this computer'])).toEqual([
      [held, KITCHEN.id],
      [here!.id, 'this computer'],
    ]);
    expect((await service.allPoints()).map((pt) => pt.id)).toEqual([held, here!.id]);

    fake.files.set(p.volume('storage'), Buffer.from('changed'));
    const task = await finished(
      await service.restore({
        deviceId: DEVICE.id,
        appId: 'counter',
        pointId: held,
        toDeviceId: DEVICE.id,
        heldBy: KITCHEN.id,
      }),
    );
    expect(task.state).toBe('succeeded');
    expect(fake.files.get(p.volume('storage'))).toEqual(volume);
    expect(kitchen.operations).toContain(`peer-held-dump counter ${held}`);

    // A copy the device no longer keeps is refused in a sentence.
    kitchen.heldListing = '';
    await expect(
      service
        .restore({
          deviceId: DEVICE.id,
          appId: 'counter',
          pointId: held,
          toDeviceId: DEVICE.id,
          heldBy: KITCHEN.id,
        })
        .then(finished),
    ).resolves.toMatchObject({ state: 'failed', error: { code: 'NOT_FOUND' } });
  });

  it('takes the source’s key off the other device once none of its apps keeps copies there', async () => {
    await state.updateApp(DEVICE.id, 'counter', time.clock.now(), (a) => {
      a.destination = { kind: 'device', deviceId: KITCHEN.id };
    });
    await service.setDestination(DEVICE.id, 'counter', { kind: 'computer' });
    expect(fake.operations).toContain('peer-schedule counter off');
    expect(kitchen.operations).toContain(`peer-revoke ${DEVICE.id}`);
  });
});
