// `npm run dev:web`: runs Hearth's services in Node and serves the renderer to a browser.
// Prints the address to open (with this run's token) and, for tests, a JSON line.
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../services/logger';
import { startBrowserMode } from './web-server';
import type { ServiceTimings } from './web-server';

// Development and e2e: shorter waits than an owner's, in milliseconds. Each flag sets one of
// the services' timings (what it means: AppServicesOptions).
const timingFlags = {
  'check-listen-ms': 'checkListenMs',
  // A backup schedule's "hour", and how often the schedule is looked at.
  'backup-hour-ms': 'backupHourMs',
  'backup-tick-ms': 'backupTickMs',
  // How often the catalogs are read again; how long a new version must run before it is
  // kept; how often each app's update state is looked at.
  'catalog-refresh-ms': 'catalogRefreshMs',
  'update-window-ms': 'updateWindowMs',
  'update-sweep-ms': 'updateSweepMs',
  // How long a device must not answer before it is called offline; how long a condition must
  // stay away before its alert resolves; how often each device's disk is read.
  'alert-offline-ms': 'alertOfflineMs',
  'alert-settle-ms': 'alertSettleMs',
  'alert-disk-every-ms': 'alertDiskEveryMs',
} as const satisfies Record<string, keyof ServiceTimings>;
type TimingFlag = keyof typeof timingFlags;

const timingOptions = Object.fromEntries(
  Object.keys(timingFlags).map((flag) => [flag, { type: 'string' }]),
) as Record<TimingFlag, { type: 'string' }>;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5780' },
    'user-data': { type: 'string', default: join(homedir(), '.config', 'Hearth-browser-mode') },
    // Development and e2e: another signed catalog, and the publisher key that signed it.
    catalog: { type: 'string', multiple: true },
    'trust-catalog-key': { type: 'string', multiple: true },
    // A browser has no native file dialog: the file the owner picks in "Install from a file".
    'choose-file': { type: 'string' },
    // The owner's documents folder (backups and the recovery kit go there by default).
    documents: { type: 'string', default: join(homedir(), 'Documents') },
    ...timingOptions,
  },
});

/** The timings given on the command line; a value that is not a duration stops the start. */
function timingsOf(given: Partial<Record<TimingFlag, string>>): ServiceTimings {
  const timings: ServiceTimings = {};
  for (const [flag, key] of Object.entries(timingFlags) as [TimingFlag, keyof ServiceTimings][]) {
    const text = given[flag];
    if (text === undefined) continue;
    const ms = Number(text);
    if (!Number.isFinite(ms) || ms <= 0) {
      console.error(
        `Hearth could not start browser mode: --${flag} takes milliseconds, not "${text}".`,
      );
      process.exit(1);
    }
    timings[key] = ms;
  }
  return timings;
}

const root = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const userDataDir = resolve(values['user-data']);
mkdirSync(userDataDir, { recursive: true, mode: 0o700 });
const log = createLogger({ destination: join(userDataDir, 'logs', 'hearth.log') });

/** Stands in for the owner's pick in the dialog: the same file every time. */
function chosenFile(path: string): () => Promise<string> {
  return () => Promise.resolve(path);
}

const server = await startBrowserMode({
  rendererDir: join(root, '.vite', 'renderer', 'main_window'),
  userDataDir,
  version: pkg.version,
  log,
  port: Number(values.port),
  discovery: true,
  resourcesDir: join(root, 'resources'),
  extraCatalogs: values.catalog ?? [],
  extraTrustedKeys: (values['trust-catalog-key'] ?? []).map((entry) => {
    // KEYID=BASE64: split at the first '=' only; base64 itself ends in '='.
    const at = entry.indexOf('=');
    return { keyId: entry.slice(0, at), publicKey: entry.slice(at + 1) };
  }),
  ...(values['choose-file'] ? { chooseFile: chosenFile(resolve(values['choose-file'])) } : {}),
  documentsDir: resolve(values.documents),
  timings: timingsOf(values),
}).catch((error: NodeJS.ErrnoException) => {
  const reason =
    error.code === 'EADDRINUSE' ? `port ${values.port} is in use (try --port 0)` : error.message;
  console.error(`Hearth could not start browser mode: ${reason}.`);
  process.exit(1);
});

console.log(
  `Hearth is running in browser mode. Open this address in Chromium:\n\n  ${server.url}\n`,
);
console.log(JSON.stringify({ hearthBrowserMode: { url: server.url, origin: server.origin } }));

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
