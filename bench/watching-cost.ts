// The "cost of watching" row of `npm run bench` (no lab needed): Hearth's services in a
// process of their own (watch-process.ts, bundled as `npm run build` bundles the main process
// and run in plain Node) watching `devices` in-process SSH devices with
// `appsEach` apps each (watched-devices.ts; their side runs here, so its CPU is not counted),
// against the same process with no device recorded. Rounds alternate idle and watching, each
// process fresh, so a noisy neighbour spreads over both.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, loadConfigFromFile } from 'vite';
import type { WatchWindow } from './watch-process';
import type { DeviceAsks } from './watched-devices';
import { startWatchedDevices } from './watched-devices';

export interface WatchingCost {
  idle: WatchWindow[];
  watching: WatchWindow[];
  /** What the devices were asked during each watching window. */
  asks: DeviceAsks[];
}

export interface WatchingOptions {
  devices: number;
  appsEach: number;
  rounds: number;
  warmupMs: number;
  windowMs: number;
  say: (line: string) => void;
}

const root = join(import.meta.dirname, '..');

/**
 * Bundles watch-process.ts with the main process's Vite settings (electron/vite.main.config.ts:
 * its dependencies inside, as in the app) into `outDir`; returns the bundle's path.
 */
async function bundleWatchProcess(outDir: string): Promise<string> {
  const main = await loadConfigFromFile(
    { command: 'build', mode: 'production' },
    join(root, 'electron', 'vite.main.config.ts'),
  );
  if (!main) throw new Error('electron/vite.main.config.ts could not be read');
  const { config } = main;
  await build({
    ...config,
    configFile: false,
    root,
    logLevel: 'error',
    build: {
      ...config.build,
      outDir,
      emptyOutDir: true,
      sourcemap: false,
      lib: {
        entry: join(root, 'bench', 'watch-process.ts'),
        formats: ['cjs'],
        fileName: () => 'watch-process.cjs',
      },
    },
  });
  return join(outDir, 'watch-process.cjs');
}

/** Runs the bundle; `onWindow` is called as its measuring window opens. */
function watchProcess(
  bundle: string,
  userDataDir: string,
  apps: number,
  o: WatchingOptions,
  onWindow: () => void,
): Promise<WatchWindow> {
  const args = [
    bundle,
    '--resources',
    join(root, 'resources'),
    '--user-data',
    userDataDir,
    '--apps',
    String(apps),
    '--warmup-ms',
    String(o.warmupMs),
    '--window-ms',
    String(o.windowMs),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let opened = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (opened || !out.includes('{"window":"start"}')) return;
      opened = true;
      onWindow();
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        const result = JSON.parse(line) as WatchWindow;
        if (code !== 0 || result.cpuPercent === undefined) throw new Error('no result');
        resolve(result);
      } catch {
        reject(
          new Error(`the bundled watch-process.ts exited ${code}: ${err.trim() || out.trim()}`),
        );
      }
    });
  });
}

export async function measureWatchingCost(o: WatchingOptions): Promise<WatchingCost> {
  const bundleDir = mkdtempSync(join(tmpdir(), 'hearth-bench-bundle-'));
  const bundle = await bundleWatchProcess(bundleDir);
  const watchedDir = mkdtempSync(join(tmpdir(), 'hearth-bench-watch-'));
  const devices = await startWatchedDevices(watchedDir, o.devices, o.appsEach);
  const result: WatchingCost = { idle: [], watching: [], asks: [] };
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const idleDir = mkdtempSync(join(tmpdir(), 'hearth-bench-idle-'));
      try {
        result.idle.push(await watchProcess(bundle, idleDir, 0, o, () => undefined));
      } finally {
        rmSync(idleDir, { recursive: true, force: true });
      }
      const watching = await watchProcess(bundle, watchedDir, o.devices * o.appsEach, o, () =>
        devices.resetAsks(),
      );
      result.watching.push(watching);
      result.asks.push(devices.asks());
      const last = (w: WatchWindow) =>
        `${w.cpuPercent.toFixed(2)}% CPU, ${w.rssMaxMB.toFixed(0)} MB`;
      o.say(
        `round ${round}: idle ${last(result.idle.at(-1)!)}; watching ${last(watching)}, ${watching.running}/${watching.apps} running, ${devices.asks().status} status scripts`,
      );
    }
  } finally {
    await devices.stop();
    rmSync(watchedDir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  }
  return result;
}
