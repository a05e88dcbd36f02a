// `npm run dev:web`: runs Hearth's services in Node and serves the renderer to a browser.
// Prints the address to open (with this run's token) and, for tests, a JSON line.
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../services/logger';
import { startBrowserMode } from './web-server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5780' },
    'user-data': { type: 'string', default: join(homedir(), '.config', 'Hearth-browser-mode') },
    'check-listen-ms': { type: 'string' },
    // Development and e2e: another signed catalog, and the publisher key that signed it.
    catalog: { type: 'string', multiple: true },
    'trust-catalog-key': { type: 'string', multiple: true },
    // A browser has no native file dialog: the file the owner picks in "Install from a file".
    'choose-file': { type: 'string' },
    // The owner's documents folder (backups and the recovery kit go there by default).
    documents: { type: 'string', default: join(homedir(), 'Documents') },
    // e2e: a backup schedule's "hour" and how often it is looked at, in milliseconds.
    'backup-hour-ms': { type: 'string' },
    'backup-tick-ms': { type: 'string' },
  },
});

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
  ...(values['check-listen-ms'] ? { checkListenMs: Number(values['check-listen-ms']) } : {}),
  ...(values['choose-file'] ? { chooseFile: chosenFile(resolve(values['choose-file'])) } : {}),
  documentsDir: resolve(values.documents),
  ...(values['backup-hour-ms'] ? { backupHourMs: Number(values['backup-hour-ms']) } : {}),
  ...(values['backup-tick-ms'] ? { backupTickMs: Number(values['backup-tick-ms']) } : {}),
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
