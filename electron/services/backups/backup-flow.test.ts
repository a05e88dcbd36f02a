// A backup and its restores end to end over the device contract's fake device and a real restic
// repository: what the owner relies on (the data comes back byte for byte, a cut run leaves
// nothing, a damaged restore is refused, a restore that does not come up is undone).
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskSnapshot } from '../../../shared/model';
import type { KnownApp } from '../apps/app-monitor';
import type { AppSpec } from '../apps/app-spec';
import { appSpec, deviceRecord, testClock, testLauncher } from '../apps/apps-test-kit';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths } from '../device/layout';
import { silentLogger } from '../logger';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { TaskManager } from '../tasks/task-manager';
import type { BackupManifest } from './backup-format';
import {
  SPEC_FILE,
  backupManifestSchema,
  imageMember,
  pointTags,
  snapshotFile,
  snapshotHost,
  snapshotPath,
  volumeMember,
} from './backup-format';
import { toPoints } from './backup-points';
import { takeBackup } from './backup-run';
import type { LastPoint } from './backup-state';
import { BackupStateStore } from './backup-state';
import { packBackup } from './backup-tar';
import { runBackupTask } from './backup-task';
import { RepositoryGate, gated } from './repository-gate';
import { fetchPoint, installFromPoint, restoreInPlace, restoreTag } from './restore-run';
import type { TestRepo } from './restic-test-kit';
import { makeTestRepo } from './restic-test-kit';

const DEVICE = deviceRecord();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let repo: TestRepo;
let fake: FakeDevice;
let client: DeviceClient;
let spec: AppSpec;
let volume: Buffer;
let image: Buffer;
const p = appPaths('counter');

function install(device: FakeDevice, s: AppSpec, data: Buffer, image: Buffer) {
  device.installed(s);
  const paths = appPaths(s.appId);
  device.files.set(paths.image(s.sha256), image);
  device.files.set(paths.current, Buffer.from(`-> images/${s.sha256}`));
  for (const v of s.volumes) device.files.set(paths.volume(v.name), Buffer.from(data));
}

beforeEach(async () => {
  repo = await makeTestRepo();
  fake = new FakeDevice();
  client = new DeviceClient(fake, DEVICE.id);
  image = randomBytes(64 * 1024);
  spec = appSpec({ sha256: sha256(image) });
  volume = randomBytes(3 * 1024 * 1024 + 17);
  install(fake, spec, volume, image);
});

afterEach(async () => {
  expect(fake.unknown).toEqual([]);
  await repo.cleanup();
});

const clock = testClock();
// As the app runs it: one restic command at a time on the repository (a run that asked restic
// for two things at once, one waiting on the other, would hang here as it would there).
const deps = () => ({
  device: client,
  restic: gated(repo.restic, new RepositoryGate()),
  clock: clock.clock,
  log: silentLogger,
});
const restoreDeps = {
  clock: clock.clock,
  sleep: clock.sleep,
  probe: (c: DeviceClient, _d: unknown, s: AppSpec) =>
    c.consoleShows(s.appId, s.health.kind === 'console' ? s.health.pattern : ''),
  launcher: testLauncher,
  log: silentLogger,
};

async function backUp(previous: LastPoint | null = null) {
  return takeBackup(deps(), {
    deviceId: DEVICE.id,
    spec,
    signal: new AbortController().signal,
    previous,
  });
}

const points = async () =>
  toPoints(
    await repo.restic.snapshots({ host: snapshotHost(DEVICE.id), path: snapshotPath('counter') }),
  );
/** The operations the device was asked for while `work` ran. */
async function asked<T>(work: () => Promise<T>): Promise<{ value: T; ops: string[] }> {
  const from = fake.operations.length;
  const value = await work();
  return { value, ops: fake.operations.slice(from).map((o) => o.split(' ')[0]!) };
}

function fetchInto(c: DeviceClient, snapshotId: string, tag: string, withImage = false) {
  return fetchPoint(c, repo.restic, {
    appId: 'counter',
    sourceAppId: 'counter',
    snapshotId,
    tag,
    withImage,
    signal: new AbortController().signal,
  });
}

/** A restore of the first backup over data changed since: the data is as it was backed up. */
async function restoreOverChangedData() {
  const { snapshotId } = await backUp();
  fake.files.set(p.volume('storage'), Buffer.from('changed since'));
  const tag = restoreTag(clock.now());
  const fetched = await fetchInto(client, snapshotId, tag);
  await restoreInPlace(restoreDeps, client, DEVICE, spec, fetched, tag);
  expect(sha256(fake.files.get(p.volume('storage'))!)).toBe(sha256(volume));
}

/** A restore whose data the app does not come up on: refused, and the app's own data is back. */
async function restoreThatDoesNotComeUp() {
  const { snapshotId } = await backUp();
  const own = Buffer.from('the data it has now');
  fake.files.set(p.volume('storage'), own);
  const tag = restoreTag(clock.now());
  const fetched = await fetchInto(client, snapshotId, tag);
  fake.behaviour.set('counter', 'never-ready');
  await expect(
    restoreInPlace(restoreDeps, client, DEVICE, spec, fetched, tag),
  ).rejects.toMatchObject({ code: 'RESTORE_NOT_HEALTHY' });
  expect(fake.files.get(p.volume('storage'))).toEqual(own);
}

const copiesLeft = () => [...fake.files.keys()].filter((f) => f.includes('.img.'));

describe('a backup', { timeout: 60_000 }, () => {
  it('pauses the app only for the copy, saves volumes, image and spec with a manifest, and removes its copies', async () => {
    let pausedDuringCopy = false;
    fake.onSnapshotPaused = () => (pausedDuringCopy = fake.unit('counter').paused);
    const result = await backUp();
    expect(pausedDuringCopy).toBe(true);
    expect(fake.unit('counter').paused).toBe(false);
    expect(fake.operations.filter((o) => /^(pause|resume) /.test(o))).toEqual([
      'pause counter',
      'resume counter',
    ]);
    expect(copiesLeft()).toEqual([]);
    expect(backupManifestSchema.parse(result.manifest).volumes).toEqual([
      { name: 'storage', sizeBytes: volume.length, sha256: sha256(volume) },
    ]);
    const snaps = await repo.restic.snapshots({
      host: snapshotHost(DEVICE.id),
      path: snapshotPath('counter'),
    });
    expect(snaps.map((s) => s.id)).toEqual([result.snapshotId]);
    expect(snaps[0]?.tags).toEqual(
      expect.arrayContaining(['hearth', 'app=counter', `size=${result.totalBytes}`]),
    );
  });

  it('adds next to nothing when it saves unchanged data again: the tar is the same bytes', async () => {
    const first = await backUp();
    clock.advance(60_000);
    const second = await backUp();
    expect(second.unchangedSince).toBeNull();
    expect(second.snapshotId).not.toBe(first.snapshotId);
    // restic's tree and snapshot files only: no chunk of the data or the manifest is new.
    expect(second.bytesAdded).toBeLessThan(4096);
    expect(second.manifest).toEqual(first.manifest);
    const [newer, older] = await points();
    expect([newer?.takenAt, older?.takenAt]).toEqual([second.takenAt, first.takenAt]);
  });

  it('leaves no point when the device stops sending mid-way, removes its copies, and the app runs', async () => {
    const before = await backUp();
    fake.failNext('read-copy', 'cat: read error', 1);
    const error = await backUp().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'BACKUP_FAILED' });
    const snaps = await repo.restic.snapshots({ host: snapshotHost(DEVICE.id) });
    expect(snaps.map((s) => s.id)).toEqual([before.snapshotId]);
    expect(copiesLeft()).toEqual([]);
    expect(fake.unit('counter').paused).toBe(false);
    expect(fake.unit('counter').activeState).toBe('active');
  });

  it('starts restic while the device is still copying, and saves the copy once it is whole', async () => {
    const events: string[] = [];
    const backupStream = repo.restic.backupStream.bind(repo.restic);
    repo.restic.backupStream = (input, o) => {
      events.push('restic started');
      return backupStream(input, o);
    };
    fake.whileCopying = async () => {
      events.push(`copying; app paused: ${fake.unit('counter').paused}`);
      const deadline = Date.now() + 5_000;
      while (!events.includes('restic started') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      events.push('copied');
    };
    const result = await backUp();
    expect(events).toEqual(['copying; app paused: false', 'restic started', 'copied']);
    expect(backupManifestSchema.parse(result.manifest).volumes).toEqual([
      { name: 'storage', sizeBytes: volume.length, sha256: sha256(volume) },
    ]);
    expect(copiesLeft()).toEqual([]);
  });

  it('leaves no point when the copy fails after the app was resumed and restic had started', async () => {
    fake.whileCopying = async () => {
      await new Promise((r) => setTimeout(r, 300));
      return { code: 28, signal: null, stdout: '', stderr: 'hearth: disk-full\n' };
    };
    await expect(backUp()).rejects.toMatchObject({ code: 'BACKUP_DEVICE_DISK_FULL' });
    expect(await repo.restic.snapshots()).toEqual([]);
    expect(copiesLeft()).toEqual([]);
    expect(fake.unit('counter').paused).toBe(false);
  });

  it('says the device’s disk is full and leaves nothing behind', async () => {
    fake.diskFull = true;
    await expect(backUp()).rejects.toMatchObject({ code: 'BACKUP_DEVICE_DISK_FULL' });
    expect(copiesLeft()).toEqual([]);
    expect(await repo.restic.snapshots()).toEqual([]);
  });
});

describe('a backup of data that did not change since the last point', { timeout: 60_000 }, () => {
  it('makes no new point and streams nothing but hashes; the app shows it was backed up then', async () => {
    const state = new BackupStateStore(new AtomicJsonStore(join(repo.dir, 'state')));
    const tasks = new Map<string, TaskSnapshot>();
    const taskManager = new TaskManager({
      clock: clock.clock,
      publish: (t) => tasks.set(t.id, t),
      progressIntervalMs: 0,
    });
    const known: KnownApp = {
      device: DEVICE,
      spec,
      app: {
        deviceId: DEVICE.id,
        deviceName: DEVICE.name,
        appId: 'counter',
        name: spec.name,
        version: spec.version,
        state: 'running',
        restarts: 0,
        runningSince: null,
        memoryBytes: null,
        memoryMiB: 32,
        links: [],
        message: null,
      },
    };
    const run = async () => {
      const handle = runBackupTask(
        {
          tasks: taskManager,
          state,
          client: () => Promise.resolve(client),
          clock: clock.clock,
          log: silentLogger,
          publish: () => Promise.resolve(),
        },
        { known, restic: repo.restic, release: () => undefined },
      );
      await handle.done;
      return tasks.get(handle.id)!;
    };
    await run();
    const [point] = await points();
    clock.advance(24 * 60 * 60_000);
    const checkedAt = clock.now();
    const { value: task, ops } = await asked(run);

    expect(task.state).toBe('succeeded');
    expect(task.summary).toMatch(/^Counter is backed up: nothing changed since /);
    expect(ops).toContain('hash-copies');
    expect(ops).not.toContain('read-copy');
    expect(ops).not.toContain('read-image');
    expect((await points()).map((p) => [p.id, p.takenAt])).toEqual([[point!.id, point!.takenAt]]);
    const st = await state.app(DEVICE.id, 'counter', clock.now());
    expect(st).toMatchObject({
      lastBackupAt: checkedAt,
      lastVerifiedAt: checkedAt,
      lastError: null,
    });
    expect(st.lastPoint?.snapshotId).toBe(point!.id);
    expect(copiesLeft()).toEqual([]);
    expect(fake.unit('counter')).toMatchObject({ activeState: 'active', paused: false });
  });

  it('catches a byte changed in place (same size, the same stat) by the hash, and saves it all', async () => {
    const first = await backUp();
    const live = fake.files.get(p.volume('storage'))!;
    live[1000] = (live[1000] ?? 0) ^ 1;
    clock.advance(60_000);
    const { value: second, ops } = await asked(() => backUp(first.lastPoint));
    // The stat identity could not tell: the device hashed the copy, and the hash did.
    expect(ops).toContain('hash-copies');
    expect(ops).toContain('read-copy');
    expect(second.unchangedSince).toBeNull();
    expect(second.snapshotId).not.toBe(first.snapshotId);
    expect(second.manifest?.volumes[0]?.sha256).toBe(sha256(live));
    expect((await points()).map((pt) => pt.id)).toEqual([second.snapshotId, first.snapshotId]);
  });

  it('saves it all after a restore swapped the volume in, even with the same data', async () => {
    const first = await backUp();
    const tag = restoreTag(clock.now());
    const fetched = await fetchInto(client, first.snapshotId, tag);
    await restoreInPlace(restoreDeps, client, DEVICE, spec, fetched, tag);
    clock.advance(60_000);
    const { value: second, ops } = await asked(() => backUp(first.lastPoint));
    // Another file now: nothing is hashed, everything is saved.
    expect(ops).not.toContain('hash-copies');
    expect(second.unchangedSince).toBeNull();
    expect((await points()).map((pt) => pt.id)).toEqual([second.snapshotId, first.snapshotId]);
  });

  it('saves it all when the last point is gone from the repository, or the spec changed', async () => {
    const first = await backUp();
    clock.advance(60_000);
    const same = await backUp(first.lastPoint);
    expect(same.unchangedSince).toEqual({ snapshotId: first.snapshotId, takenAt: first.takenAt });
    expect(same.lastPoint).toEqual(first.lastPoint);
    await repo.restic.forgetIds([first.snapshotId]);
    clock.advance(60_000);
    const again = await backUp(first.lastPoint);
    expect(again.unchangedSince).toBeNull();
    expect((await points()).map((pt) => pt.id)).toEqual([again.snapshotId]);
    spec = { ...spec, version: '1.0.1' };
    clock.advance(60_000);
    const newer = await backUp(again.lastPoint);
    expect(newer.unchangedSince).toBeNull();
    expect((await points()).map((pt) => pt.id)).toEqual([newer.snapshotId, again.snapshotId]);
  });

  it('still restores a point from before, whose manifest kept the time and the pause', async () => {
    // As earlier versions wrote it: takenAt and pausedMs inside the tar.
    const old: BackupManifest = {
      format: 1,
      deviceId: DEVICE.id,
      appId: 'counter',
      appName: spec.name,
      appVersion: spec.version,
      takenAt: clock.now() - 86_400_000,
      pausedMs: 40,
      volumes: [{ name: 'storage', sizeBytes: volume.length, sha256: sha256(volume) }],
      image: { sha256: spec.sha256, sizeBytes: image.length },
    };
    const packed = packBackup(
      [
        { name: volumeMember('storage'), content: volume },
        { name: imageMember(spec.sha256), content: image },
        { name: SPEC_FILE, content: Buffer.from(`${JSON.stringify(spec)}\n`) },
      ],
      () => old,
    );
    const saved = await repo.restic.backupStream(packed, {
      filename: snapshotFile('counter'),
      host: snapshotHost(DEVICE.id),
      tags: pointTags({
        appId: 'counter',
        appName: spec.name,
        appVersion: spec.version,
        sizeBytes: volume.length + image.length,
        volumes: ['storage'],
      }),
    });
    fake.files.set(p.volume('storage'), Buffer.from('changed since'));
    const tag = restoreTag(clock.now());
    const fetched = await fetchInto(client, saved.snapshotId, tag);
    expect(fetched.manifest).toMatchObject({ takenAt: old.takenAt, pausedMs: 40 });
    await restoreInPlace(restoreDeps, client, DEVICE, spec, fetched, tag);
    expect(sha256(fake.files.get(p.volume('storage'))!)).toBe(sha256(volume));
  });
});

describe('a restore', { timeout: 60_000 }, () => {
  it('brings the data back as it was, and drops the volume it replaced once the app is ready', async () => {
    await restoreOverChangedData();
    expect(copiesLeft()).toEqual([]);
    expect(fake.unit('counter').activeState).toBe('active');
  });

  it('is refused when what arrived on the device does not match, and the app keeps its data', async () => {
    const { snapshotId } = await backUp();
    const own = Buffer.from('the data it has now');
    fake.files.set(p.volume('storage'), own);
    // A bit flips on the way: the device hashes something else than the backup holds.
    const original = fake.execStream.bind(fake);
    fake.execStream = (command, options = {}) => {
      if (command.includes('# hearth:receive-volume') && options.stdin) {
        const flip = new Transform({
          transform(chunk: Buffer, _e: string, cb: (e: null, c: Buffer) => void) {
            const c = Buffer.from(chunk);
            c[0] = (c[0] ?? 0) ^ 1;
            cb(null, c);
          },
        });
        options.stdin.pipe(flip);
        return original(command, { ...options, stdin: flip });
      }
      return original(command, options);
    };
    const tag = restoreTag(clock.now());
    await expect(fetchInto(client, snapshotId, tag)).rejects.toMatchObject({
      code: 'RESTORE_CHECKSUM_MISMATCH',
    });
    expect(fake.files.get(p.volume('storage'))).toEqual(own);
    expect(copiesLeft()).toEqual([]);
  });

  it('puts the app’s own data back when it does not come up on the restored data', async () => {
    await restoreThatDoesNotComeUp();
  });

  it('keeps an initrd beside the image, and a new device gets both', async () => {
    const initrd = randomBytes(20_000);
    spec = { ...spec, initrdSha256: sha256(initrd) };
    install(fake, spec, volume, image);
    fake.files.set(p.image(sha256(initrd)), initrd);
    const taken = await backUp();
    expect(taken.manifest?.initrd).toEqual({ sha256: sha256(initrd), sizeBytes: initrd.length });
    expect(taken.totalBytes).toBe(volume.length + image.length + initrd.length);
    const other = new FakeDevice();
    const otherClient = new DeviceClient(other, 'another-device');
    const tag = restoreTag(clock.now());
    const fetched = await fetchInto(otherClient, taken.snapshotId, tag, true);
    try {
      await installFromPoint(
        restoreDeps,
        otherClient,
        deviceRecord({ id: 'another-device' }),
        fetched,
        {
          appId: 'counter',
          tag,
          signal: new AbortController().signal,
          enable: true,
        },
      );
    } finally {
      await fetched.cleanup();
    }
    expect(sha256(other.files.get(p.image(spec.sha256))!)).toBe(spec.sha256);
    expect(sha256(other.files.get(p.image(sha256(initrd)))!)).toBe(sha256(initrd));
    expect(other.unknown).toEqual([]);
  });

  it('installs the app from the backup alone on another device, with its data', async () => {
    const { snapshotId } = await backUp();
    const other = new FakeDevice();
    const otherClient = new DeviceClient(other, 'another-device');
    const tag = restoreTag(clock.now());
    const fetched = await fetchInto(otherClient, snapshotId, tag, true);
    try {
      const installed = await installFromPoint(
        restoreDeps,
        otherClient,
        deviceRecord({ id: 'another-device' }),
        fetched,
        { appId: 'counter', tag, signal: new AbortController().signal, enable: true },
      );
      expect(installed.sha256).toBe(spec.sha256);
    } finally {
      await fetched.cleanup();
    }
    expect(sha256(other.files.get(p.volume('storage'))!)).toBe(sha256(volume));
    expect(sha256(other.files.get(p.image(spec.sha256))!)).toBe(spec.sha256);
    expect(other.unit('counter').activeState).toBe('active');
    expect(other.unknown).toEqual([]);
  });
});

describe('an app that sleeps when idle', { timeout: 60_000 }, () => {
  /** Installed asleep, as "Sleep when idle" leaves it: stopped, its sockets listening. */
  async function asleep() {
    spec = {
      ...spec,
      ports: [{ name: 'http', guest: 80, host: 8080, protocol: 'tcp', path: '/' }],
      sleep: { idleSeconds: 600 },
    };
    install(fake, spec, volume, image);
    await client.setSleep('counter', true);
    expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', sleeping: true });
  }

  it('is backed up asleep: its volumes copied as they are, never woken or paused', async () => {
    await asleep();
    const { value: result, ops } = await asked(() => backUp());
    expect(ops).not.toContain('pause');
    expect(ops).not.toContain('control');
    expect(result.manifest?.volumes[0]?.sha256).toBe(sha256(volume));
    expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', sleeping: true });
  });

  it('is woken to prove the restored data, then sleeps again', async () => {
    await asleep();
    await restoreOverChangedData();
    expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', sleeping: true });
  });

  it('sleeps again on its own data when it does not come up on the restored data', async () => {
    await asleep();
    await restoreThatDoesNotComeUp();
    expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', sleeping: true });
  });
});
