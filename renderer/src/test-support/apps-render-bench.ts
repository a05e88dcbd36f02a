// The page of `npm run bench`'s render row (bench/apps-render.ts; never part of the app's
// build): the whole window (App.svelte and the real state classes) over the FakeHearth the
// component tests use, with 50 devices of 20 apps each. The bench opens the Apps view and
// then asks this page to change one app's status, timing the frame that shows it.
import { flushSync, mount } from 'svelte';
import type { InstalledApp } from '../../../shared/model';
import App from '../App.svelte';
import '../styles/global.css';
import type { AppsRenderBench, FrameTiming } from './apps-render-timing';
import { FakeHearth, fakeCatalogApp, fakeDevice, fakeInstalledApp } from './fake-hearth';

const benchDevices = 50;
const benchAppsEach = 20;

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const devices = Array.from({ length: benchDevices }, (_, d) =>
  fakeDevice({ id: id(d + 1), name: `Device ${String(d + 1).padStart(2, '0')}` }),
);
const appNames = Array.from({ length: benchAppsEach }, (_, a) => ({
  appId: `app-${String(a + 1).padStart(2, '0')}`,
  name: `App ${String(a + 1).padStart(2, '0')}`,
}));
// In the order the app monitor publishes them: by device name, then app name.
let apps: InstalledApp[] = devices.flatMap((device) =>
  appNames.map(({ appId, name }) =>
    fakeInstalledApp({ deviceId: device.id, deviceName: device.name, appId, name }),
  ),
);

const hearth = new FakeHearth();
hearth.settings = { ...hearth.settings, welcomeDone: true };
hearth.devices = devices;
hearth.catalog = appNames.map(({ appId, name }) => fakeCatalogApp({ id: appId, name }));
hearth.apps = apps;
hearth.install();

const target = document.getElementById('app');
if (!target) throw new Error('the bench page has no #app element');
mount(App, { target });

function cardAt(index: number): Element | undefined {
  return document.querySelectorAll('ul[aria-label="Installed apps"] > li')[index];
}

/**
 * Runs `update` at the start of a frame (in its animation-frame callback), then flushes
 * Svelte's effects as its microtask would, and takes the time again in a task posted from
 * that callback: such a task runs once the frame's rendering is done.
 */
function timeFrame(update: () => void, check: () => boolean): Promise<FrameTiming> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => {
      const started = performance.now();
      update();
      flushSync();
      const scripted = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const done = performance.now();
        resolve({ scriptMs: scripted - started, frameMs: done - started, shown: check() });
      };
      channel.port2.postMessage(null);
    });
  });
}

const bench: AppsRenderBench = {
  cards: () => document.querySelectorAll('ul[aria-label="Installed apps"] > li').length,
  change: (index) => {
    const next = apps.map((app, i) =>
      i === index ? { ...app, state: 'stopped' as const, runningSince: null } : app,
    );
    // What crosses the IPC is the whole list, decoded anew in the window: decoded in the frame.
    const wire = JSON.stringify(next);
    apps = next;
    return timeFrame(
      () => hearth.emit('apps:changed', JSON.parse(wire) as InstalledApp[]),
      () => cardAt(index)?.textContent?.includes('Stopped') ?? false,
    );
  },
  idle: () =>
    timeFrame(
      () => undefined,
      () => true,
    ),
};
(window as unknown as { hearthBench: AppsRenderBench }).hearthBench = bench;
