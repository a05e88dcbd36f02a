// A backup and its restores end to end over the device contract's fake device and a real restic
// repository: what the owner relies on (the data comes back byte for byte, a cut run leaves
// nothing, a damaged restore is refused, a restore that does not come up is undone).
import { createHash, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppSpec } from '../apps/app-spec';
import { appSpec, deviceRecord, testClock, testLauncher } from '../apps/apps-test-kit';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths } from '../device/layout';
import { silentLogger } from '../logger';
import { backupManifestSchema, snapshotHost, snapshotPath } from './backup-format';
import { takeBackup } from './backup-run';
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
  const image = randomBytes(64 * 1024);
  spec = appSpec({ sha256: sha256(image) });
  volume = randomBytes(3 * 1024 * 1024 + 17);
  install(fake, spec, volume, image);
});

afterEach(async () => {
  expect(fake.unknown).toEqual([]);
  await repo.cleanup();
});

const clock = testClock();
const deps = () => ({ device: client, restic: repo.restic, clock: clock.clock, log: silentLogger });
const restoreDeps = {
  clock: clock.clock,
  sleep: clock.sleep,
  probe: (c: DeviceClient, _d: unknown, s: AppSpec) =>
    c.consoleShows(s.appId, s.health.kind === 'console' ? s.health.pattern : ''),
  launcher: testLauncher,
  log: silentLogger,
};

async function backUp() {
  return takeBackup(deps(), { deviceId: DEVICE.id, spec, signal: new AbortController().signal });
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

  it('takes almost nothing the second time the data is unchanged', async () => {
    const first = await backUp();
    const second = await backUp();
    expect(second.bytesAdded).toBeLessThan(first.bytesAdded * 0.05);
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

  it('says the device’s disk is full and leaves nothing behind', async () => {
    fake.diskFull = true;
    await expect(backUp()).rejects.toMatchObject({ code: 'BACKUP_DEVICE_DISK_FULL' });
    expect(copiesLeft()).toEqual([]);
    expect(await repo.restic.snapshots()).toEqual([]);
  });
});

describe('a restore', { timeout: 60_000 }, () => {
  it('brings the data back as it was, and drops the volume it replaced once the app is ready', async () => {
    const { snapshotId } = await backUp();
    fake.files.set(p.volume('storage'), Buffer.from('changed since'));
    const tag = restoreTag(clock.now());
    const fetched = await fetchInto(client, snapshotId, tag);
    await restoreInPlace(restoreDeps, client, DEVICE, spec, fetched, tag);
    expect(sha256(fake.files.get(p.volume('storage'))!)).toBe(sha256(volume));
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
    const { snapshotId } = await backUp();
    const own = Buffer.from('the data it has now');
    fake.files.set(p.volume('storage'), own);
    const tag = restoreTag(clock.now());
    const fetched = await fetchInto(client, snapshotId, tag);
    fake.behaviour.set('counter', 'never-ready');
    await expect(
      restoreInPlace(restoreDeps, client, DEVICE, spec, fetched, tag),
    ).rejects.toMatchObject({
      code: 'RESTORE_NOT_HEALTHY',
    });
    expect(fake.files.get(p.volume('storage'))).toEqual(own);
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
