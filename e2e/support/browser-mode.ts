// Starts Hearth in browser mode (the real services in a Node process, the real renderer
// build) with a fresh user-data folder, and opens it in the test's page. Both run on the
// lab's laptop side: the services' mDNS and scans then only ever reach the lab's own
// virtual LAN, never the network of the machine the tests run on.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test as labTest } from '../lab/fixture';

export interface HearthApp {
  url: string;
  origin: string;
  userDataDir: string;
  /** Stops the services (as quitting would) and starts them again on the same data. */
  restart(): Promise<void>;
  /** Stops the services (the laptop is closed); start() brings them back on the same data. */
  stop(): Promise<void>;
  /** Kills the services at once (SIGKILL: a crash, nothing gets to clean up). */
  kill(): Promise<void>;
  start(): Promise<void>;
}

const root = join(import.meta.dirname, '..', '..');

interface Started {
  child: ChildProcess;
  url: string;
  origin: string;
}

export function startBrowserModeProcess(
  userDataDir: string,
  extraArgs: string[] = [],
  command: string[] = [],
): Promise<Started> {
  // `command` prefixes the launch, e.g. to run the services inside the lab's laptop side.
  const argv = [
    ...command,
    process.execPath,
    '--import',
    'tsx',
    'electron/browser-mode/serve.ts',
    '--port',
    '0',
    '--user-data',
    userDataDir,
    ...extraArgs,
  ];
  const program = argv.shift() ?? process.execPath;
  const child = spawn(program, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(
      () => reject(new Error(`browser mode did not start in time: ${stderr}`)),
      30_000,
    );
    lines.on('line', (line) => {
      if (!line.startsWith('{"hearthBrowserMode"')) return;
      clearTimeout(timer);
      const { url, origin } = (
        JSON.parse(line) as { hearthBrowserMode: { url: string; origin: string } }
      ).hearthBrowserMode;
      resolve({ child, url, origin });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`browser mode exited (${code}): ${stderr}`));
    });
  });
}

export function stopProcess(
  child: ChildProcess,
  signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export const test = labTest.extend<{
  hearth: HearthApp;
  checkListenMs: number;
  serveArgs: string[];
}>({
  serveArgs: [[], { option: true }],
  // Chromium runs inside the laptop namespace too, to reach a server bound to its 127.0.0.1.
  browser: [
    async ({ lab, playwright, launchOptions }, use) => {
      const executablePath = (await lab.state()).laptop.chromium;
      const browser = await playwright.chromium.launch({ ...launchOptions, executablePath });
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],
  checkListenMs: [3_000, { option: true }],
  // auto: every test gets the app opened in its page, whether or not it names `hearth`.
  hearth: [
    async ({ page, lab, checkListenMs, serveArgs }, use, testInfo) => {
      const userDataDir = mkdtempSync(join(tmpdir(), 'hearth-e2e-'));
      const args = ['--check-listen-ms', String(checkListenMs), ...serveArgs];
      const onLaptop = lab.laptopArgv([]);
      let current = await startBrowserModeProcess(userDataDir, args, onLaptop);
      const app: HearthApp = {
        url: current.url,
        origin: current.origin,
        userDataDir,
        restart: async () => {
          await app.stop();
          await app.start();
        },
        stop: () => stopProcess(current.child),
        kill: () => stopProcess(current.child, 'SIGKILL'),
        start: async () => {
          if (current.child.exitCode === null && current.child.signalCode === null) return;
          current = await startBrowserModeProcess(userDataDir, args, onLaptop);
          app.url = current.url;
          app.origin = current.origin;
        },
      };
      await page.goto(app.url);
      await use(app);
      await stopProcess(current.child);
      // What Hearth itself logged (a failure's cause rides along there, never in the window).
      const log = join(userDataDir, 'logs', 'hearth.log');
      if (testInfo.status !== testInfo.expectedStatus && existsSync(log))
        await testInfo.attach('hearth log', { path: log, contentType: 'text/plain' });
      rmSync(userDataDir, { recursive: true, force: true });
    },
    { auto: true },
  ],
});

export { expect } from '@playwright/test';
