// The update transaction as a state machine, against the real device script (run locally by
// LocalUpdateDevice): it commits a good version, rolls back one that does not start or keeps
// stopping, and every step failing in turn (a cut connection) ends with the app whole in one
// version, its data matching, once the device or a later look of Hearth settled it.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { appFiles } from '../apps/app-files';
import type { AppCatalogPort } from '../apps/app-ports';
import type { AppSpec, PublishedPort } from '../apps/app-spec';
import { wakeInternalPort } from '../device/layout';
import { appSpec, deviceRecord, resolvedApp, testClock, testLauncher } from '../apps/apps-test-kit';
import { AppLocks } from '../backups/app-locks';
import { silentLogger } from '../logger';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { TaskManager } from '../tasks/task-manager';
import type { UpdateDevice } from './update-device';
import { UpdateHistory } from './update-history';
import { LocalUpdateDevice } from './local-update-device';
import { UpdateTransaction } from './update-transaction';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const V = {
  '1.0.0': 'counter kernel v1',
  '2.0.0': 'counter kernel v2',
  '3.0.0': 'counter kernel v3',
} as const;
type Version = keyof typeof V;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-update-tx-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(offered: Version = '2.0.0', installedAs: Partial<AppSpec> = {}) {
  const time = testClock();
  const device = new LocalUpdateDevice(join(dir, 'device'));
  const record = deviceRecord();
  const installed = appSpec({
    target: 'qemu-x86_64',
    sha256: sha(V['1.0.0']),
    volumes: [{ name: 'data', sizeMiB: 1 }],
    ...installedAs,
  });
  device.install(installed, V['1.0.0'], 'counter=5');
  for (const v of Object.keys(V) as Version[]) writeFileSync(join(dir, v), V[v]);
  const catalog: AppCatalogPort = {
    resolve: async (appId, target) =>
      resolvedApp({
        appId,
        target,
        version: state.offered,
        artifact: {
          url: `https://catalog.example/counter-${state.offered}.img`,
          size: V[state.offered].length,
          sha256: sha(V[state.offered]),
          disk: 'ide',
        },
        resources: {
          ...resolvedApp().resources,
          volumes: [{ name: 'data', sizeMiB: 1 }],
          ...(state.ports ? { ports: state.ports } : {}),
        },
      }),
    download: async (artifact) => {
      const v = (Object.keys(V) as Version[]).find((k) => sha(V[k]) === artifact.sha256)!;
      return join(dir, v);
    },
  };
  const state: { offered: Version; ports?: PublishedPort[] } = { offered };
  const tasks = new TaskManager({ clock: time.clock, publish: () => undefined });
  const locks = new AppLocks();
  const store = new AtomicJsonStore(join(dir, 'store'));
  let ids = 0;
  const make = async (ownLocks: AppLocks = locks) => {
    const history = new UpdateHistory(store);
    await history.load();
    return new UpdateTransaction({
      devices: { get: async () => record },
      tasks,
      catalog,
      launcher: testLauncher,
      device: async () => device,
      locks: ownLocks,
      history,
      newId: () => `u${++ids}`,
      clock: time.clock,
      sleep: time.sleep,
      log: silentLogger,
      refresh: async () => undefined,
      stabilityMs: 10_000,
      readyMs: 5_000,
      timeOfDay: () => '14:02',
    });
  };
  return { time, device, record, tasks, locks, state, make, store, installed };
}

async function outcomeOf(tasks: TaskManager, taskId: string) {
  for (;;) {
    const t = tasks.list().find((s) => s.id === taskId);
    if (t && t.state !== 'running') return t;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The app is whole in exactly one version: image, spec and run script agree; no transaction. */
function whole(device: LocalUpdateDevice): Version {
  expect(device.hasState()).toBe(false);
  const spec = JSON.parse(device.read('spec.json')) as { version: Version; sha256: string };
  expect(device.currentSha()).toBe(spec.sha256);
  expect(sha(V[spec.version])).toBe(spec.sha256);
  expect(device.running()).toBe(true);
  return spec.version;
}

describe('an update', () => {
  it('moves to the new version, keeps the data it wrote, and keeps the old one to go back to', async () => {
    const s = setup();
    const tx = await s.make();
    s.device.writes.set(sha(V['2.0.0']), 'counter=6');
    const { taskId } = await tx.start(s.record.id, 'counter', '2.0.0');
    const t = await outcomeOf(s.tasks, taskId);
    expect(t.error).toBeNull();
    expect(t.summary).toBe('Counter was updated to 2.0.0.');
    expect(whole(s.device)).toBe('2.0.0');
    expect(s.device.read('data/data.img')).toBe('counter=6');
    await tx.sweep(s.record.id, 'counter');
    expect(tx.standing(s.record.id, 'counter')).toMatchObject({
      previousVersion: '1.0.0',
      runningTaskId: null,
      lastOutcome: { kind: 'updated', message: 'Counter was updated to 2.0.0.' },
    });
  });

  it('rolls back by itself when the new version keeps stopping, data as it was', async () => {
    const s = setup('3.0.0');
    s.device.behaviour.set(sha(V['3.0.0']), 'crash');
    s.device.writes.set(sha(V['3.0.0']), 'counter=6 by v3');
    const tx = await s.make();
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '3.0.0')).taskId);
    expect(t.error?.code).toBe('UPDATE_ROLLED_BACK');
    expect(t.error?.message).toBe(
      'Counter 3.0.0 kept stopping; Hearth went back to 1.0.0. Your data is as it was at 14:02.',
    );
    expect(whole(s.device)).toBe('1.0.0');
    expect(s.device.read('data/data.img')).toBe('counter=5');
    // What v3 wrote is kept aside, not thrown away.
    expect(s.device.read('data/.kept-u1/data.img')).toBe('counter=6 by v3');
    expect(tx.standing(s.record.id, 'counter').lastOutcome?.kind).toBe('rolled-back');
  });

  it('rolls back when the new version never becomes ready', async () => {
    const s = setup();
    s.device.behaviour.set(sha(V['2.0.0']), 'not-ready');
    const tx = await s.make();
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    expect(t.error?.message).toMatch(/^Counter 2.0.0 did not start; Hearth went back to 1.0.0\./);
    expect(whole(s.device)).toBe('1.0.0');
  });

  it('refuses a version the catalog does not offer, or one that is not newer', async () => {
    const s = setup();
    const tx = await s.make();
    await expect(tx.start(s.record.id, 'counter', '3.0.0')).rejects.toMatchObject({
      code: 'UPDATE_NOT_OFFERED',
    });
    s.state.offered = '1.0.0';
    await expect(tx.start(s.record.id, 'counter', '1.0.0')).rejects.toMatchObject({
      code: 'UPDATE_NOT_OFFERED',
    });
    expect(whole(s.device)).toBe('1.0.0');
  });

  const failing: (keyof UpdateDevice)[] = [
    'placeImage',
    'imagesIntact',
    'begin',
    'stop',
    'snapshot',
    'writeFiles',
    'switchTo',
    'start',
    'healthy',
    'unitStatus',
    'commit',
  ];
  for (const what of failing) {
    it(`a cut connection at "${what}" ends with one version whole, its data matching`, async () => {
      const s = setup();
      s.device.writes.set(sha(V['2.0.0']), 'counter=6');
      const tx = await s.make();
      s.device.failNext.add(what);
      const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
      expect(t.state).toBe('failed');
      // What was left to settle, a later look settles (Hearth reconnects).
      await tx.sweep(s.record.id, 'counter');
      const version = whole(s.device);
      expect(s.device.read('data/data.img')).toBe(version === '1.0.0' ? 'counter=5' : 'counter=6');
      expect(tx.standing(s.record.id, 'counter').lastOutcome).not.toBeNull();
    });
  }

  it("Hearth's services killed mid-update: the next Hearth finds the transaction and rolls it back", async () => {
    const s = setup();
    s.device.writes.set(sha(V['2.0.0']), 'counter=6');
    // The first Hearth gets as far as starting the new version, then dies: its task never ends.
    const first = await s.make();
    const original = s.device.healthy.bind(s.device);
    s.device.healthy = () => new Promise<boolean>(() => undefined);
    await first.start(s.record.id, 'counter', '2.0.0');
    await expect.poll(() => s.device.running() && s.device.read('spec.json')).toContain('2.0.0');
    s.device.healthy = original;
    // A new Hearth: its own locks (the dead one's went with it), the same saved history.
    const second = await s.make(new AppLocks());
    await second.sweep(s.record.id, 'counter');
    expect(whole(s.device)).toBe('1.0.0');
    expect(s.device.read('data/data.img')).toBe('counter=5');
    expect(second.standing(s.record.id, 'counter').lastOutcome).toMatchObject({
      kind: 'rolled-back',
      message:
        'Hearth was interrupted while updating Counter to 2.0.0; it went back to 1.0.0 by itself, with its data as it was before.',
    });
  });

  it('a device that lost power mid-update settles it at boot; Hearth then tells the owner', async () => {
    const s = setup();
    s.device.writes.set(sha(V['2.0.0']), 'counter=6');
    const tx = await s.make();
    // The power goes just after the new version started: no answer to the health probe.
    s.device.healthy = async () => {
      expect(s.device.bootRecover()).toBe('rolled-back');
      throw new HearthError('DEVICE_UNREACHABLE');
    };
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    expect(t.state).toBe('failed');
    await tx.sweep(s.record.id, 'counter');
    expect(whole(s.device)).toBe('1.0.0');
    expect(s.device.read('data/data.img')).toBe('counter=5');
  });

  it('waits for a running backup, and holds a backup off while it runs', async () => {
    const s = setup();
    const tx = await s.make();
    const backup = s.locks.tryAcquire(s.record.id, 'counter', 'backup');
    const { taskId } = await tx.start(s.record.id, 'counter', '2.0.0');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.device.currentSha()).toBe(sha(V['1.0.0']));
    expect(s.tasks.list().find((t) => t.id === taskId)?.detail).toMatch(/backup of Counter/);
    backup();
    await expect.poll(() => s.locks.holder(s.record.id, 'counter')).toBe('update');
    expect(() => s.locks.tryAcquire(s.record.id, 'counter', 'backup')).toThrow(HearthError);
    await outcomeOf(s.tasks, taskId);
    expect(whole(s.device)).toBe('2.0.0');
  });

  it('goes back to the previous version, with the data as it was before or as it is now', async () => {
    const s = setup();
    s.device.writes.set(sha(V['2.0.0']), 'counter=6');
    const tx = await s.make();
    await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    const back = await outcomeOf(
      s.tasks,
      (await tx.goBack(s.record.id, 'counter', 'before')).taskId,
    );
    expect(back.summary).toBe(
      'Counter is back at 1.0.0, with its data as it was before the update.',
    );
    expect(whole(s.device)).toBe('1.0.0');
    expect(s.device.read('data/data.img')).toBe('counter=5');
    await expect(tx.goBack(s.record.id, 'counter', 'now')).rejects.toMatchObject({
      code: 'NO_PREVIOUS_VERSION',
    });
  });
});

describe('an update of an app that sleeps when idle', () => {
  const web = (host: number): PublishedPort => ({
    name: 'http',
    guest: 80,
    host,
    protocol: 'tcp',
    path: '/',
  });
  /** Installed asleep on port 8080, as the card's "Sleep when idle" leaves it. */
  async function asleep(offered: Version = '2.0.0') {
    const s = setup(offered, { ports: [web(8080)], sleep: { idleSeconds: 600 } });
    await s.device.writeFiles('counter', appFiles(testLauncher, s.record, s.installed));
    await s.device.sleep('counter', true);
    return s;
  }
  const wakesOn = (host: number) => `wake tcp ${host} ${wakeInternalPort(host)} http`;

  it("holds the new version's port in its sleep units, and leaves it asleep", async () => {
    const s = await asleep();
    s.state.ports = [web(9090)];
    const tx = await s.make();
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    expect(t.error).toBeNull();
    const spec = JSON.parse(s.device.read('spec.json')) as AppSpec;
    expect(spec).toMatchObject({ version: '2.0.0', sleep: { idleSeconds: 600 } });
    expect(s.device.sleepUnits).toContain(wakesOn(9090));
    expect(s.device.sleepUnits).not.toContain(wakesOn(8080));
    expect(s.device.running()).toBe(false);
    expect((await s.device.unitStatus('counter')).sleeping).toBe(true);
  });

  it("goes back to the old port's sleep units when the new version fails, and sleeps", async () => {
    const s = await asleep();
    s.state.ports = [web(9090)];
    s.device.behaviour.set(sha(V['2.0.0']), 'not-ready');
    const tx = await s.make();
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    expect(t.error?.code).toBe('UPDATE_ROLLED_BACK');
    expect((JSON.parse(s.device.read('spec.json')) as AppSpec).version).toBe('1.0.0');
    expect(s.device.sleepUnits).toContain(wakesOn(8080));
    expect(s.device.sleepUnits).not.toContain(wakesOn(9090));
    expect(s.device.running()).toBe(false);
  });

  it('runs on instead when the new version has no port a visit could wake it on', async () => {
    const s = await asleep();
    s.state.ports = [{ name: 'dns', guest: 53, host: 5353, protocol: 'udp' }];
    const tx = await s.make();
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    expect(t.error).toBeNull();
    expect(JSON.parse(s.device.read('spec.json'))).not.toHaveProperty('sleep');
    expect(s.device.sleepUnits).toBeNull();
    expect(whole(s.device)).toBe('2.0.0');
  });

  it('is kept when it falls asleep within the stability window (an idle time shorter than it)', async () => {
    const s = await asleep();
    const tx = await s.make();
    // The device's proxies go idle and the app stops while Hearth watches it.
    const watch = s.device.unitStatus.bind(s.device);
    let polls = 0;
    s.device.unitStatus = async (appId: string) => {
      if (++polls === 3) await s.device.stop();
      return watch(appId);
    };
    const t = await outcomeOf(s.tasks, (await tx.start(s.record.id, 'counter', '2.0.0')).taskId);
    expect(t.error).toBeNull();
    expect(t.summary).toBe('Counter was updated to 2.0.0.');
    expect(s.device.running()).toBe(false);
  });
});
