import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRecord, InstalledApp } from '../../../shared/model';
import { BOOT_MARKER } from '../device/app-status-report';
import { DeviceClient } from '../device/device-client';
import { FakeDevice } from '../device/fake-device';
import { appPaths } from '../device/layout';
import { AppController } from './app-controller';
import { AppMonitor } from './app-monitor';
import { appSpec, deviceRecord, testClock, testLauncher } from './apps-test-kit';

const pi = deviceRecord();
const pc = deviceRecord({
  id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  name: 'Study PC',
  hostname: 'study-pc',
  addresses: ['192.168.1.30'],
});

function setup(devices: DeviceRecord[] = [pi]) {
  const time = testClock();
  const fakes = new Map(devices.map((d) => [d.id, new FakeDevice()]));
  const published: InstalledApp[][] = [];
  const consoleEvents: { deviceId: string; appId: string; lines: string[] }[] = [];
  const disconnected: string[] = [];
  const asked: string[] = [];
  /** Apps whose port does not answer yet. */
  const unready = new Set<string>();
  /** While set, opening a device's client waits for it. */
  let gate: Promise<void> | null = null;
  const client = async (id: string) => {
    asked.push(id);
    if (gate) await gate;
    return new DeviceClient(fakes.get(id)!, id);
  };
  const monitor = new AppMonitor({
    devices: {
      list: () => Promise.resolve(devices),
      get: (id) => Promise.resolve(devices.find((d) => d.id === id)!),
    },
    client,
    disconnect: (id) => disconnected.push(id),
    clock: time.clock,
    sleep: time.sleep,
    probe: (_client, _device, spec) => Promise.resolve(!unready.has(spec.appId)),
    linkHosts: { hostFor: (d) => `${d.hostname}.local` },
    publish: (apps) => published.push(apps),
    publishConsole: (event) => consoleEvents.push(event),
  });
  const controller = new AppController({ monitor, client, launcher: testLauncher });
  return {
    ...time,
    fakes,
    fake: fakes.get(devices[0]!.id)!,
    monitor,
    controller,
    published,
    consoleEvents,
    disconnected,
    asked,
    unready,
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
    last: () => published.at(-1) ?? [],
  };
}

let all: FakeDevice[] = [];
afterEach(() => {
  for (const fake of all) expect(fake.unknown).toEqual([]);
  all = [];
});

function watched<T extends { fakes: Map<string, FakeDevice> }>(s: T): T {
  all.push(...s.fakes.values());
  return s;
}

describe('AppMonitor', () => {
  it('publishes running apps with links to their web ports on the device’s name', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    expect(s.last()).toEqual([
      {
        deviceId: pi.id,
        deviceName: 'Living room Pi',
        appId: 'counter',
        name: 'Counter',
        version: '1.0.0',
        state: 'running',
        restarts: 0,
        runningSince: Math.floor(s.fake.now / 1000) * 1000,
        memoryBytes: null,
        memoryMiB: 32,
        // The UDP port is not a web page: no link.
        links: [{ name: 'http', url: 'http://living-room-pi.local:8080/' }],
        message: null,
      },
    ]);
    expect(s.monitor.appIdsOn(pi.id)).toEqual(['counter']);
  });

  it('publishes only when something changed', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    await s.monitor.refreshDevice(pi);
    expect(s.published).toHaveLength(1);
    await s.controller.control(pi.id, 'counter', 'stop');
    expect(s.last()[0]).toMatchObject({ state: 'stopped', runningSince: null });
  });

  it('says an app is starting while its console has not shown it ready', async () => {
    const s = watched(setup());
    s.fake.behaviour.set('counter', 'never-ready');
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    expect(s.last()[0]).toMatchObject({ state: 'starting', runningSince: null });
  });

  it('asks the port of an app checked by its port, and says Starting until it answers', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec({ health: { kind: 'http', port: 80, path: '/health' } }));
    s.unready.add('counter');
    await s.monitor.refreshDevice(pi);
    expect(s.last()[0]).toMatchObject({ state: 'starting', runningSince: null });
    s.unready.delete('counter');
    await s.monitor.refreshDevice(pi);
    expect(s.last()[0]).toMatchObject({ state: 'running' });
  });

  it('ignores a folder whose spec.json names another app', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    s.fake.files.set(
      appPaths('copy').spec,
      Buffer.from(JSON.stringify(appSpec({ name: 'Not a copy' }))),
    );
    s.fake.unit('copy').activeState = 'active';
    await s.monitor.refreshDevice(pi);
    expect(s.last().map((a) => [a.appId, a.name])).toEqual([['counter', 'Counter']]);
    expect(s.monitor.get(pi.id, 'copy')).toBeNull();
  });

  it('shows a device that stops answering offline, backs off, and brings it back', async () => {
    const s = watched(setup([pi, pc]));
    s.fake.installed(appSpec());
    s.fakes.get(pc.id)!.installed(appSpec({ appId: 'notes', name: 'Notes' }));
    await Promise.all([s.monitor.refreshDevice(pi), s.monitor.refreshDevice(pc)]);
    expect(s.last().map((a) => a.state)).toEqual(['running', 'running']);

    s.fake.offline = true;
    await Promise.all([s.monitor.refreshDevice(pi), s.monitor.refreshDevice(pc)]);
    const [counter, notes] = s.last();
    expect(counter).toMatchObject({
      appId: 'counter',
      state: 'offline',
      message:
        'Living room Pi is not answering. Hearth keeps trying; the app may still be running.',
    });
    // The other device is not held back by it.
    expect(notes).toMatchObject({ appId: 'notes', state: 'running', message: null });

    // Within the backoff Hearth does not ask the device, even if it is back already.
    s.fake.offline = false;
    const asked = s.asked.length;
    s.advance(1_000);
    await s.monitor.refreshDevice(pi);
    expect(s.asked).toHaveLength(asked);
    expect(s.last()[0]?.state).toBe('offline');

    s.advance(1_500);
    await s.monitor.refreshDevice(pi);
    expect(s.asked).toHaveLength(asked + 1);
    expect(s.last()[0]).toMatchObject({ state: 'running', message: null });
  });

  it('waits longer after each failed try, up to half a minute', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    s.fake.offline = true;
    await s.monitor.refreshDevice(pi);
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      const asked = s.asked.length;
      let waited = 0;
      while (s.asked.length === asked && waited < 60_000) {
        s.advance(250);
        waited += 250;
        await s.monitor.refreshDevice(pi);
      }
      waits.push(waited);
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('drops a forgotten device’s apps, even when a refresh had already begun', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    expect(s.last()).toHaveLength(1);

    const release = s.hold();
    const refreshing = s.monitor.refreshDevice(pi);
    s.monitor.forgetDevice(pi.id);
    expect(s.last()).toEqual([]);
    expect(s.disconnected).toEqual([pi.id]);
    release();
    await refreshing;
    expect(s.monitor.list()).toEqual([]);
    expect(s.last()).toEqual([]);
    expect(s.monitor.get(pi.id, 'counter')).toBeNull();
  });

  it('does not let a refresh that failed before the forget mark anything offline', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    s.fake.offline = true;
    const release = s.hold();
    const refreshing = s.monitor.refreshDevice(pi);
    s.monitor.forgetDevice(pi.id);
    release();
    await refreshing;
    expect(s.last()).toEqual([]);
    // Watched again (the owner added it back): no backoff is left over from before.
    s.fake.offline = false;
    await s.monitor.refreshDevice(pi);
    expect(s.last().map((a) => a.state)).toEqual(['running']);
  });

  it('says Installing for an app being installed until it runs', async () => {
    const s = watched(setup());
    s.fake.behaviour.set('counter', 'crashes');
    s.fake.installed(appSpec());
    s.monitor.setInstalling(pi.id, 'counter', true);
    await s.monitor.refreshDevice(pi);
    expect(s.last()[0]?.state).toBe('installing');

    s.fake.behaviour.delete('counter');
    await s.controller.control(pi.id, 'counter', 'start');
    expect(s.last()[0]?.state).toBe('running');

    s.monitor.setInstalling(pi.id, 'counter', false);
    s.fake.behaviour.set('counter', 'crashes');
    await s.controller.control(pi.id, 'counter', 'restart');
    expect(s.last()[0]?.state).toBe('gave-up');
  });
});

describe('the console, followed', () => {
  const append = (fake: FakeDevice, text: string) => {
    const log = appPaths('counter').consoleLog;
    fake.files.set(log, Buffer.concat([fake.files.get(log) ?? Buffer.alloc(0), Buffer.from(text)]));
  };

  it('publishes only the lines printed after the console was opened, without escapes', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    const { lines } = await s.controller.console(pi.id, 'counter');
    expect(lines).toEqual([`${BOOT_MARKER} counter ---`, 'booting', 'counter ready']);

    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents).toEqual([]);

    append(s.fake, 'request 1\n\x1b[1;32mrequest 2\x1b[0m\r\n\x1b]0;title\x07done\n');
    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents).toEqual([
      { deviceId: pi.id, appId: 'counter', lines: ['request 1', 'request 2', 'done'] },
    ]);
    for (const event of s.consoleEvents)
      // eslint-disable-next-line no-control-regex
      for (const line of event.lines) expect(line).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);

    append(s.fake, 'request 3\n');
    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents.at(-1)?.lines).toEqual(['request 3']);
  });

  it('stops following ten minutes after the console was opened', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    await s.controller.console(pi.id, 'counter');
    s.advance(10 * 60_000 - 1);
    append(s.fake, 'still followed\n');
    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents.at(-1)?.lines).toEqual(['still followed']);

    s.advance(2);
    append(s.fake, 'no one is looking\n');
    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents.flatMap((e) => e.lines)).toEqual(['still followed']);
  });

  it('starts again from the top of a log that was rotated', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    await s.controller.console(pi.id, 'counter');
    s.fake.files.set(appPaths('counter').consoleLog, Buffer.from('fresh\n'));
    await s.monitor.refreshDevice(pi);
    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents.flatMap((e) => e.lines)).toEqual(['fresh']);
  });

  it('stops following the console of an app that was removed', async () => {
    const s = watched(setup());
    s.fake.installed(appSpec());
    await s.monitor.refreshDevice(pi);
    await s.controller.console(pi.id, 'counter');
    await s.controller.remove(pi.id, 'counter');
    append(s.fake, 'after removal\n');
    await s.monitor.refreshDevice(pi);
    expect(s.consoleEvents).toEqual([]);
  });
});
