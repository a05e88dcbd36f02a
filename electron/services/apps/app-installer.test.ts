import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceRecord, TaskSnapshot } from '../../../shared/model';
import type { Target } from '../../../shared/runtimes';
import { DeviceClient } from '../device/device-client';
import type { FakeAppBehaviour } from '../device/fake-device';
import { FakeDevice } from '../device/fake-device';
import { appPaths, deviceLayout } from '../device/layout';
import { TaskManager } from '../tasks/task-manager';
import { AppInstaller, installSteps } from './app-installer';
import type { AppCatalogPort, ArtifactRef } from './app-ports';
import { parseAppSpec } from './app-spec';
import type { AppSpec } from './app-spec';
import { appSpec, deviceRecord, resolvedApp, testClock, testLauncher } from './apps-test-kit';
import { probeOnce } from './health-probe';

const KERNEL = 'counter unikernel image, version 1.0.0';
const KERNEL_SHA = createHash('sha256').update(KERNEL).digest('hex');
const INITRD = 'counter initrd';
const INITRD_SHA = createHash('sha256').update(INITRD).digest('hex');
const p = appPaths('counter');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-installer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(
  device: DeviceRecord = deviceRecord(),
  behaviour?: FakeAppBehaviour,
  withInitrd = false,
  sleepWhenIdle = false,
  neighbours: AppSpec[] = [],
) {
  const time = testClock();
  const fake = new FakeDevice();
  if (behaviour) fake.behaviour.set('counter', behaviour);
  const tasks = new TaskManager({ clock: time.clock, publish: () => undefined });
  const resolvedFor: Target[] = [];
  const installing: [string, boolean][] = [];
  const refreshed: string[] = [];
  /** While set, the download waits for it (the owner can cancel meanwhile). */
  let downloadGate: Promise<void> | null = null;
  let downloads = 0;
  /** Called at each wait of the health check (the owner may act meanwhile). */
  let onSleep: (() => void) | null = null;
  const catalog: AppCatalogPort = {
    resolve: (appId, target) => {
      resolvedFor.push(target);
      return Promise.resolve(
        resolvedApp({
          appId,
          target,
          ...(sleepWhenIdle
            ? { resources: { ...resolvedApp().resources, sleepWhenIdle: true } }
            : {}),
          artifact: {
            url: 'https://catalog.example/counter.img',
            size: KERNEL.length,
            sha256: KERNEL_SHA,
            disk: 'virtio',
            ...(withInitrd
              ? {
                  initrd: {
                    url: 'https://catalog.example/counter.initrd',
                    size: INITRD.length,
                    sha256: INITRD_SHA,
                  },
                }
              : {}),
          },
        }),
      );
    },
    download: async (artifact: ArtifactRef, { onProgress }) => {
      downloads++;
      if (downloadGate) await downloadGate;
      const path = join(dir, `download-${artifact.sha256.slice(0, 8)}`);
      const content = artifact.sha256 === INITRD_SHA ? INITRD : KERNEL;
      writeFileSync(path, content);
      onProgress(content.length, content.length);
      return path;
    },
  };
  const installer = new AppInstaller({
    devices: { get: (id) => Promise.resolve({ ...device, id }) },
    tasks,
    catalog,
    launcher: testLauncher,
    client: (id) => Promise.resolve(new DeviceClient(fake, id)),
    clock: time.clock,
    sleep: (ms, signal) => {
      onSleep?.();
      return time.sleep(ms, signal);
    },
    probe: probeOnce,
    installing: (_device, appId, busy) => installing.push([appId, busy]),
    refresh: (d) => {
      refreshed.push(d.id);
      return Promise.resolve();
    },
    neighbours: () => neighbours,
  });
  const finished = (id: string) =>
    new Promise<TaskSnapshot>((resolve) => {
      const check = () => {
        const task = tasks.list().find((t) => t.id === id);
        if (task && task.state !== 'running') resolve(task);
        else setTimeout(check, 1);
      };
      check();
    });
  const install = async () => finished(await installer.install(device.id, 'counter'));
  return {
    ...time,
    fake,
    tasks,
    installer,
    install,
    finished,
    resolvedFor,
    installing,
    refreshed,
    downloads: () => downloads,
    whileWaiting: (hook: () => void) => (onSleep = hook),
    holdDownload: () => {
      let release!: () => void;
      downloadGate = new Promise((r) => (release = r));
      return () => {
        downloadGate = null;
        release();
      };
    },
    spec: () => parseAppSpec(fake.text(p.spec) ?? ''),
  };
}

const states = (task: TaskSnapshot) => task.steps.map((s) => s.state);

describe('AppInstaller', () => {
  it('refuses at once an app whose port another app on the device publishes, and sends nothing', async () => {
    const visits = appSpec({
      appId: 'visits',
      name: 'Visit counter',
      ports: [{ name: 'http', guest: 80, host: 8080, protocol: 'tcp' }],
    });
    const s = setup(deviceRecord(), undefined, false, false, [visits]);
    const before = new Map(s.fake.files);
    const name = resolvedApp().name;
    await expect(s.installer.install(deviceRecord().id, 'counter')).rejects.toMatchObject({
      code: 'APP_UNSUITABLE',
      message: `${name} needs port 8080 on Living room Pi, which Visit counter already uses. Install ${name} on another device, or remove Visit counter from Living room Pi first.`,
    });
    expect(s.tasks.list()).toEqual([]);
    expect(s.downloads()).toBe(0);
    expect(s.fake.files).toEqual(before);
  });

  it('installs beside an app on other ports, and over its own install', async () => {
    const other = appSpec({
      appId: 'notes',
      name: 'Notes',
      ports: [{ name: 'http', guest: 80, host: 8080, protocol: 'udp' }],
    });
    const s = setup(deviceRecord(), undefined, false, false, [
      other,
      appSpec({ appId: 'counter' }),
    ]);
    expect((await s.install()).state).toBe('succeeded');
  });

  it('installs an app: seven steps done, the app in its folder, running and enabled', async () => {
    const s = setup();
    const task = await s.install();
    expect(task).toMatchObject({
      kind: 'app-install',
      title: 'Install Counter on Living room Pi',
      state: 'succeeded',
      summary: 'Counter is running on Living room Pi.',
      error: null,
    });
    expect(task.steps.map((step) => step.label)).toEqual([...installSteps]);
    expect(states(task)).toEqual(Array<string>(7).fill('done'));
    expect(task.steps[0]?.note).toBe('Counter 1.0.0, checked against the catalog.');
    expect(task.steps[3]?.note).toBe('Its storage is ready.');
    expect(task.steps[6]?.note).toBe('Counter is running.');
    expect(task.progress).toEqual({ done: 7, total: 7, unit: 'steps' });

    expect(s.fake.text(p.image(KERNEL_SHA))).toBe(KERNEL);
    expect(s.fake.text(p.current)).toBe(`-> images/${KERNEL_SHA}`);
    expect(s.fake.files.has(p.volume('storage'))).toBe(true);
    expect(s.fake.text(p.origin)).toBe('catalog\n');
    expect(s.fake.text(p.healthPattern)).toBe('counter ready');
    expect(s.fake.text(p.run)).toContain('qemu aarch64 kvm 32M');
    expect(s.spec()).toMatchObject({
      appId: 'counter',
      name: 'Counter',
      version: '1.0.0',
      target: 'qemu-aarch64',
      sha256: KERNEL_SHA,
      accel: 'kvm',
      memoryMiB: 32,
      volumes: [{ name: 'storage', sizeMiB: 64 }],
      installedAt: new Date(task.startedAt).toISOString(),
    });
    expect(s.fake.unit('counter')).toMatchObject({ enabled: true, activeState: 'active' });
    expect(s.fake.files.has(deviceLayout.kvmUnusable)).toBe(false);
    expect(s.resolvedFor).toEqual(['qemu-aarch64']);
    // The card said Installing while it ran, and the list was read again after.
    expect(s.installing).toEqual([
      ['counter', true],
      ['counter', false],
    ]);
    expect(s.refreshed.length).toBeGreaterThan(0);
    expect(s.fake.unknown).toEqual([]);
  });

  it('installs an app its catalog lets sleep asleep, and a reinstall keeps the owner’s choice', async () => {
    const s = setup(deviceRecord(), undefined, false, true);
    const task = await s.install();
    expect(task.state).toBe('succeeded');
    expect(task.steps.at(-1)?.note).toBe('Counter is ready and sleeps until the first visit.');
    expect(s.spec()?.sleep).toEqual({ idleSeconds: 600 });
    expect(s.fake.text(p.sleep)).toBe('idle 600\nwake tcp 8080 40848 http\n');
    expect(s.fake.unit('counter')).toMatchObject({ sleeping: true, activeState: 'inactive' });

    // The owner turned sleeping off; installing again does not turn it back on.
    const { sleep: _sleep, ...awake } = s.spec()!;
    s.fake.installed(awake);
    s.fake.unit('counter').sleeping = false;
    expect((await s.install()).state).toBe('succeeded');
    expect(s.spec()?.sleep).toBeUndefined();
    expect(s.fake.unit('counter')).toMatchObject({ sleeping: false, activeState: 'active' });
  });

  it('installs again over the same app: nothing sent again, its data kept', async () => {
    const s = setup();
    await s.install();
    s.fake.files.set(p.volume('storage'), Buffer.from('the household’s counts'));
    const task = await s.install();
    expect(task.state).toBe('succeeded');
    expect(states(task)).toEqual([
      'done',
      'already-done',
      'already-done',
      'already-done',
      'done',
      'done',
      'done',
    ]);
    expect(task.steps[3]?.note).toBe('Its data from before is kept.');
    expect(s.fake.text(p.volume('storage'))).toBe('the household’s counts');
    expect(s.fake.unit('counter').activeState).toBe('active');
    expect(s.fake.unknown).toEqual([]);
  });

  it('sends and checks an initrd beside the kernel', async () => {
    const s = setup(deviceRecord(), undefined, true);
    const task = await s.install();
    expect(task.state).toBe('succeeded');
    expect(s.fake.text(p.image(KERNEL_SHA))).toBe(KERNEL);
    expect(s.fake.text(p.image(INITRD_SHA))).toBe(INITRD);
    expect(s.spec()).toMatchObject({ sha256: KERNEL_SHA, initrdSha256: INITRD_SHA });
    // current is the kernel; the initrd is named by its hash.
    expect(s.fake.text(p.current)).toBe(`-> images/${KERNEL_SHA}`);
    // An initrd that rotted on the device is sent again by the next install; the kernel is not.
    s.fake.files.set(p.image(INITRD_SHA), Buffer.from('rotted'));
    const again = await s.install();
    expect(again.state).toBe('succeeded');
    expect(again.steps.slice(1, 3).map((step) => step.state)).toEqual(['done', 'done']);
    expect(s.fake.text(p.image(INITRD_SHA))).toBe(INITRD);
  });

  it('picks an upload up where it stopped and says so', async () => {
    const s = setup();
    s.fake.files.set(p.partialImage(KERNEL_SHA), Buffer.from(KERNEL.slice(0, 20)));
    const task = await s.install();
    expect(task.state).toBe('succeeded');
    expect(task.steps[1]?.note).toMatch(
      /^Picked up where it stopped: 0\.0 MiB were already there\.$/,
    );
    expect(s.fake.text(p.image(KERNEL_SHA))).toBe(KERNEL);
  });

  it('fails the upload of a damaged copy, and leaves no partial image', async () => {
    const s = setup();
    s.fake.damageUploads = true;
    const task = await s.install();
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('APP_DAMAGED_IN_TRANSIT');
    expect(states(task)).toEqual(['done', 'failed', ...Array<string>(5).fill('skipped')]);
    expect(task.steps[1]?.note).toContain('arrived damaged');
    expect(s.fake.files.has(p.partialImage(KERNEL_SHA))).toBe(false);
    expect(s.fake.files.has(p.image(KERNEL_SHA))).toBe(false);
    expect(s.fake.unit('counter').activeState).toBe('inactive');
  });

  it('falls back to emulation for an app KVM cannot run, and remembers that', async () => {
    const s = setup(deviceRecord(), 'needs-tcg');
    const task = await s.install();
    expect(task.state).toBe('succeeded');
    expect(s.spec()?.accel).toBe('tcg');
    expect(s.fake.text(p.run)).toContain('qemu aarch64 tcg 32M');
    expect(s.fake.files.has(deviceLayout.kvmUnusable)).toBe(true);
    expect(s.fake.unit('counter').activeState).toBe('active');

    // The next install goes straight to emulation.
    const again = await s.install();
    expect(again.state).toBe('succeeded');
    expect(s.spec()?.accel).toBe('tcg');
    expect(s.fake.unknown).toEqual([]);
  });

  it('says an app that keeps stopping does so, and does not blame KVM', async () => {
    const s = setup(deviceRecord(), 'crashes');
    const task = await s.install();
    expect(task.state).toBe('failed');
    expect(task.error?.code).toBe('APP_KEEPS_STOPPING');
    expect(states(task)).toEqual([...Array<string>(6).fill('done'), 'failed']);
    expect(task.steps[6]?.note).toBe(
      'Counter kept stopping right after it started, so the device stopped trying. Its data is safe. Try starting it again; if it keeps happening, reinstall it or remove it.',
    );
    expect(task.summary).toBe(task.steps[6]?.note);
    expect(s.fake.files.has(deviceLayout.kvmUnusable)).toBe(false);
  });

  it('says an app that never becomes ready did not, after trying KVM and then emulation', async () => {
    const s = setup(deviceRecord(), 'never-ready');
    const task = await s.install();
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({
      code: 'APP_NOT_READY',
      message: 'Counter started but did not become ready. Open its console to see what it says.',
    });
    expect(states(task)).toEqual([...Array<string>(6).fill('done'), 'failed']);
    // 15 s under KVM, then 90 s under emulation, on the test clock.
    expect(task.endedAt! - task.startedAt).toBeGreaterThanOrEqual(105_000);
    expect(task.endedAt! - task.startedAt).toBeLessThan(110_000);
    expect(s.fake.files.has(deviceLayout.kvmUnusable)).toBe(false);
  });

  it('ends cancelled when the owner cancels mid-install, and sends nothing after', async () => {
    const s = setup();
    const release = s.holdDownload();
    const id = await s.installer.install(deviceRecord().id, 'counter');
    while (s.downloads() === 0) await new Promise((r) => setTimeout(r, 1));
    expect(s.tasks.cancel(id)).toBe(true);
    release();
    const task = await s.finished(id);
    expect(task.state).toBe('cancelled');
    expect(task.error?.code).toBe('CANCELLED');
    expect(states(task).slice(1)).toEqual(Array<string>(6).fill('skipped'));
    expect(s.fake.operations).toEqual([]);
    expect([...s.fake.files.keys()]).toEqual([]);
  });

  it('ends cancelled when the owner cancels while it waits for the app', async () => {
    const s = setup(deviceRecord(), 'never-ready');
    let id = '';
    let waits = 0;
    s.whileWaiting(() => {
      if (++waits === 3) s.tasks.cancel(id);
    });
    id = await s.installer.install(deviceRecord().id, 'counter');
    const task = await s.finished(id);
    expect(task.state).toBe('cancelled');
    expect(task.summary).toBe('Cancelled.');
    expect(task.steps[6]?.state).toBe('skipped');
  });

  it('refuses a catalog app where a file’s app keeps its data under that name', async () => {
    const s = setup();
    s.fake.files.set(p.origin, Buffer.from('file\n'));
    s.fake.files.set(p.volume('storage'), Buffer.from('their own data'));
    const before = new Map(s.fake.files);
    const task = await s.install();
    expect(task.state).toBe('failed');
    expect(task.error).toEqual({
      code: 'APP_ID_TAKEN',
      message:
        'Living room Pi already keeps an app you installed from a file under the name "counter", with its data. Hearth did not touch it. Remove that app with its data first, or install this one on another device.',
    });
    expect(states(task)).toEqual(['done', 'failed', ...Array<string>(5).fill('skipped')]);
    expect(s.fake.files).toEqual(before);
    expect(s.fake.unit('counter')).toMatchObject({ enabled: false, activeState: 'inactive' });
  });

  it('installs the Xen build on a Xen host', async () => {
    const xen = deviceRecord({
      name: 'Study PC',
      hypervisor: 'xen',
      capabilities: {
        ...deviceRecord().capabilities,
        arch: 'x86_64',
        rawArch: 'x86_64',
        xenDom0: true,
      },
    });
    const s = setup(xen);
    const task = await s.install();
    expect(task.state).toBe('succeeded');
    expect(s.resolvedFor).toEqual(['xen-x86_64']);
    expect(s.spec()?.target).toBe('xen-x86_64');
    expect(s.fake.text(p.run)).toContain('xen x86_64');
    // A Xen guest has its own address: dom0's ports are not announced for it (an empty file,
    // which the agent need not even read at each start).
    expect(s.fake.text(p.advertise)).toBe('');
  });

  it('refuses a board it cannot run apps on before any task starts', async () => {
    const armv7 = deviceRecord({
      name: 'Old Pi',
      capabilities: { ...deviceRecord().capabilities, arch: 'armv7', rawArch: 'armv7l' },
    });
    const s = setup(armv7);
    await expect(s.installer.install(armv7.id, 'counter')).rejects.toMatchObject({
      code: 'APP_UNSUITABLE',
      message: 'Old Pi has a processor Hearth cannot run apps on (armv7l).',
    });
    expect(s.tasks.list()).toEqual([]);
    expect(s.resolvedFor).toEqual([]);
    expect(s.fake.operations).toEqual([]);
  });
});
