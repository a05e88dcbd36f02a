// Run by watching-cost.ts as a process of its own: Hearth's services as the window's main
// process builds them (electron/app-services.ts, everything started: discovery, the app
// monitor, alerts and their disk watch, the schedules), over the user-data folder it is
// given. After a warm-up it measures this process's CPU time and resident memory over a fixed
// window and prints them as JSON on its last line. With devices recorded in the folder the
// services watch them; without, they sit idle: the baseline.
//   --user-data DIR  --apps N (the apps to wait for before the warm-up; 0 when idle)
//   --warmup-ms MS   --window-ms MS  --resources DIR (the repo's resources/)
// watching-cost.ts bundles it as `npm run build` bundles the main process and runs the bundle
// in plain Node, so its memory is the services' and Node's, not a TypeScript loader's.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { InstalledApp } from '../shared/model';
import { createAppServices } from '../electron/app-services';
import { FileKeyVault } from '../electron/services/keys/file-key-vault';
import { silentLogger } from '../electron/services/logger';

const { values } = parseArgs({
  options: {
    'user-data': { type: 'string' },
    apps: { type: 'string', default: '0' },
    'warmup-ms': { type: 'string', default: '10000' },
    'window-ms': { type: 'string', default: '30000' },
    resources: { type: 'string', default: '' },
  },
});
const userDataDir = values['user-data'] ?? '';
const wantedApps = Number(values.apps);

export interface WatchWindow {
  /** CPU time (user + system) over the window, as a share of one core, in percent. */
  cpuPercent: number;
  /** Resident memory, MB (10^6 bytes): the median and the largest of one sample a second. */
  rssMedianMB: number;
  rssMaxMB: number;
  windowMs: number;
  /** The last apps:changed: how many apps, and how many of them running. */
  apps: number;
  running: number;
  /** apps:changed events during the window (a steady household publishes none). */
  appEvents: number;
}

let latest: InstalledApp[] = [];
let appEvents = 0;
let seen: () => void = () => undefined;
const services = createAppServices({
  userDataDir,
  emit: (channel, payload) => {
    if (channel !== 'apps:changed') return;
    latest = payload as InstalledApp[];
    appEvents += 1;
    seen();
  },
  log: silentLogger,
  info: { name: 'Hearth', version: 'bench', shell: 'browser', platform: process.platform },
  keyVault: new FileKeyVault(join(userDataDir, 'vault')),
  resourcesDir: values.resources,
  documentsDir: join(userDataDir, 'Documents'),
  // "Check this computer" is not run here; its one-shot listener stays off the network.
  listen: () => Promise.resolve([]),
});
services.start();
watch().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});

async function watch(): Promise<void> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const allRunning = () =>
    latest.length >= wantedApps && latest.every((app) => app.state === 'running');
  if (wantedApps > 0)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`saw ${latest.length} of ${wantedApps} apps running after 60 s`)),
        60_000,
      );
      seen = () => {
        if (!allRunning()) return;
        clearTimeout(timer);
        resolve();
      };
      seen();
    });
  await sleep(Number(values['warmup-ms']));

  // The parent starts counting what the devices are asked from here.
  console.log(JSON.stringify({ window: 'start' }));
  appEvents = 0;
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 1000);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await sleep(Number(values['window-ms']));
  const cpu = process.cpuUsage(cpuBefore);
  const windowMs = performance.now() - started;
  clearInterval(sampler);
  rss.push(process.memoryUsage.rss());
  rss.sort((a, b) => a - b);

  const result: WatchWindow = {
    cpuPercent: ((cpu.user + cpu.system) / 1000 / windowMs) * 100,
    rssMedianMB: (rss[Math.floor(rss.length / 2)] ?? 0) / 1e6,
    rssMaxMB: (rss.at(-1) ?? 0) / 1e6,
    windowMs,
    apps: latest.length,
    running: latest.filter((app) => app.state === 'running').length,
    appEvents,
  };
  services.dispose();
  console.log(JSON.stringify(result));
  process.exit(0);
}
