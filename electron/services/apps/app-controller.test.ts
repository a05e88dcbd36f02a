import { afterEach, describe, expect, it } from 'vitest';
import type { InstalledApp } from '../../../shared/model';
import { BOOT_MARKER } from '../device/app-status-report';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths } from '../device/layout';
import { AppController } from './app-controller';
import { AppMonitor } from './app-monitor';
import { parseAppSpec } from './app-spec';
import { appSpec, deviceRecord, testClock, testLauncher } from './apps-test-kit';

const pi = deviceRecord();
const p = appPaths('counter');
let fake: FakeDevice;

async function setup() {
  const time = testClock();
  fake = new FakeDevice();
  fake.installed(appSpec());
  fake.files.set(p.volume('storage'), Buffer.from('the counts'));
  fake.files.set(p.origin, Buffer.from('catalog\n'));
  const published: InstalledApp[][] = [];
  const client = (id: string) => Promise.resolve(new DeviceClient(fake, id));
  const monitor = new AppMonitor({
    devices: { list: () => Promise.resolve([pi]), get: () => Promise.resolve(pi) },
    client,
    disconnect: () => undefined,
    clock: time.clock,
    sleep: time.sleep,
    probe: () => Promise.resolve(true),
    linkHosts: { hostFor: (d) => d.addresses[0] },
    publish: (apps) => published.push(apps),
    publishConsole: () => undefined,
  });
  await monitor.refreshDevice(pi);
  const controller = new AppController({ monitor, client, launcher: testLauncher });
  return { controller, monitor, published, last: () => published.at(-1) ?? [] };
}

afterEach(() => expect(fake.unknown).toEqual([]));

describe('AppController', () => {
  it('stops, starts and restarts the app, and the list says so at once', async () => {
    const s = await setup();
    await s.controller.control(pi.id, 'counter', 'stop');
    expect(fake.unit('counter').activeState).toBe('inactive');
    expect(s.last()[0]?.state).toBe('stopped');

    fake.now += 60_000;
    await s.controller.control(pi.id, 'counter', 'start');
    expect(fake.unit('counter')).toMatchObject({ activeState: 'active', startedAt: fake.now });
    expect(s.last()[0]).toMatchObject({ state: 'running', runningSince: fake.now });

    fake.now += 60_000;
    await s.controller.control(pi.id, 'counter', 'restart');
    expect(s.last()[0]).toMatchObject({ state: 'running', runningSince: fake.now });
  });

  it('lets an app with a web port sleep when idle, shown sleeping, and keeps it running when turned off', async () => {
    const s = await setup();
    const web = [appSpec().ports[0]!];
    fake.installed(appSpec({ ports: web }));
    await s.monitor.refreshDevice(pi);
    await s.controller.setSleep(pi.id, 'counter', 5);
    expect(parseAppSpec(fake.text(p.spec) ?? '')?.sleep).toEqual({ idleSeconds: 300 });
    expect(fake.text(p.sleep)).toBe('idle 300\nwake tcp 8080 40848 http\n');
    expect(fake.unit('counter')).toMatchObject({ sleeping: true, activeState: 'inactive' });
    expect(s.last()[0]).toMatchObject({ state: 'sleeping', sleepIdleMinutes: 5 });

    await s.controller.setSleep(pi.id, 'counter', null);
    expect(parseAppSpec(fake.text(p.spec) ?? '')?.sleep).toBeUndefined();
    expect(fake.text(p.sleep)).toBe('');
    expect(fake.unit('counter')).toMatchObject({ sleeping: false, activeState: 'active' });
    expect(s.last()[0]?.state).toBe('running');
    expect(s.last()[0]?.sleepIdleMinutes).toBeUndefined();
  });

  it('refuses to let an app sleep that no visit could wake, saying why, and changes nothing', async () => {
    const s = await setup();
    // The test app also answers on UDP (DNS), which cannot wake it.
    await expect(s.controller.setSleep(pi.id, 'counter', 10)).rejects.toMatchObject({
      code: 'APP_UNSUITABLE',
      message:
        'Counter answers on a UDP port, which cannot wake a sleeping app; it keeps running instead.',
    });
    fake.installed(appSpec({ ports: [] }));
    await s.monitor.refreshDevice(pi);
    await expect(s.controller.setSleep(pi.id, 'counter', 10)).rejects.toThrow(
      'Counter publishes no port, so no visit could wake it; it keeps running instead.',
    );
    expect(fake.unit('counter').sleeping).toBe(false);
    expect(parseAppSpec(fake.text(p.spec) ?? '')?.sleep).toBeUndefined();
  });

  it('removes the app and keeps its data when its name was not typed exactly', async () => {
    const s = await setup();
    for (const typed of [undefined, 'counter', 'Count', '']) {
      fake.installed(appSpec());
      await s.monitor.refreshDevice(pi);
      expect(await s.controller.remove(pi.id, 'counter', typed)).toEqual({ dataDeleted: false });
      expect(fake.text(p.volume('storage'))).toBe('the counts');
      expect(fake.text(p.origin)).toBe('catalog\n');
      expect(fake.files.has(p.spec)).toBe(false);
      expect(fake.unit('counter')).toMatchObject({ activeState: 'inactive', enabled: false });
      expect(s.last()).toEqual([]);
    }
  });

  it('removes the app with its data when its name was typed', async () => {
    const s = await setup();
    expect(await s.controller.remove(pi.id, 'counter', ' Counter ')).toEqual({
      dataDeleted: true,
    });
    expect([...fake.files.keys()].filter((path) => path.startsWith(`${p.dir}/`))).toEqual([]);
    expect(s.last()).toEqual([]);
    expect(s.monitor.get(pi.id, 'counter')).toBeNull();
  });

  it('gives the app more memory: spec.json and its launcher rewritten, and it restarted', async () => {
    const s = await setup();
    fake.now += 60_000;
    await s.controller.setMemory(pi.id, 'counter', 128);
    expect(parseAppSpec(fake.text(p.spec) ?? '')).toEqual({ ...appSpec(), memoryMiB: 128 });
    expect(fake.text(p.run)).toContain('qemu aarch64 kvm 128M');
    expect(fake.unit('counter')).toMatchObject({ activeState: 'active', startedAt: fake.now });
    expect(fake.text(p.consoleLog)?.split(BOOT_MARKER)).toHaveLength(3);
    expect(s.last()[0]).toMatchObject({ memoryMiB: 128, state: 'running' });
    expect(fake.text(p.volume('storage'))).toBe('the counts');
  });

  it('shows the console as clean lines', async () => {
    const s = await setup();
    fake.files.set(
      p.consoleLog,
      Buffer.from(`${BOOT_MARKER} counter ---\n\x1b[?7l\x1b[2JSeaBIOS\r\n\x1b[1mready\x1b[0m\n`),
    );
    expect(await s.controller.console(pi.id, 'counter')).toEqual({
      lines: [`${BOOT_MARKER} counter ---`, 'SeaBIOS', 'ready'],
    });
  });

  it('shows the last 500 lines of a long console', async () => {
    const s = await setup();
    fake.files.set(
      p.consoleLog,
      Buffer.from(Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('')),
    );
    const { lines } = await s.controller.console(pi.id, 'counter');
    expect(lines.length).toBeLessThanOrEqual(500);
    expect(lines.at(-1)).toBe('line 1999');
  });

  it('says an app Hearth does not see is not on the device, and asks the device nothing', async () => {
    const s = await setup();
    const asked = fake.operations.length;
    for (const act of [
      () => s.controller.control(pi.id, 'notes', 'start'),
      () => s.controller.remove(pi.id, 'notes', 'Notes'),
      () => s.controller.setMemory(pi.id, 'notes', 64),
      () => s.controller.console(pi.id, 'notes'),
      () => s.controller.control('7c9e6679-7425-40de-944b-e07fc1f90ae7', 'counter', 'stop'),
    ])
      await expect(act()).rejects.toMatchObject({
        code: 'APP_NOT_ON_DEVICE',
        message: 'Hearth does not see that app on that device any more.',
      });
    expect(fake.operations).toHaveLength(asked);
    expect(fake.unit('counter').activeState).toBe('active');
  });
});
