// Browser mode: the same services, reached from a browser page over a WebSocket. Bound
// to 127.0.0.1 only; the socket needs this run's random token and the page's own origin,
// so no other site or local user's page can drive Hearth.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { errorMessages } from '../../shared/errors';
import type { InvokeChannel } from '../../shared/ipc';
import { createAppServices } from '../app-services';
import type { AppServices, AppServicesOptions } from '../app-services';
import type { TrustedKey } from '../services/catalog/catalog-signature';
import { FileKeyVault } from '../services/keys/file-key-vault';
import { contentSecurityPolicy } from '../csp';
import type { Emit } from '../ipc/events';
import { createHandle } from '../ipc/handle';
import type { RawListener } from '../ipc/handle';
import { registerIpc } from '../ipc/register-ipc';
import type { Logger } from '../services/logger';

export interface BrowserModeOptions {
  rendererDir: string;
  userDataDir: string;
  version: string;
  log: Logger;
  port?: number;
  /** The folder holding catalog/ (the repo's resources/). */
  resourcesDir: string;
  extraCatalogs?: string[];
  extraTrustedKeys?: TrustedKey[];
  /** Start live discovery (the real app does; unit tests of the transport don't). */
  discovery?: boolean;
  listen?: AppServicesOptions['listen'];
  chooseFile?: AppServicesOptions['chooseFile'];
  /** Where "Hearth Backups" and a saved recovery kit go by default (the owner's documents). */
  documentsDir?: string;
  /** Development and e2e: shorter waits than an owner's; each absent one keeps its default. */
  timings?: ServiceTimings;
}

/** The services' waits and intervals a test shortens (what each means: AppServicesOptions). */
export type ServiceTimings = Pick<
  AppServicesOptions,
  | 'checkListenMs'
  | 'backupHourMs'
  | 'backupTickMs'
  | 'catalogRefreshMs'
  | 'updateWindowMs'
  | 'updateSweepMs'
  | 'alertOfflineMs'
  | 'alertSettleMs'
  | 'alertDiskEveryMs'
>;

export interface BrowserModeServer {
  /** Open this in a browser: the token travels in the fragment. */
  url: string;
  origin: string;
  token: string;
  services: AppServices;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

interface InvokeMessage {
  type: 'invoke';
  id: number;
  channel: string;
  request?: unknown;
}

function parseInvoke(data: string): InvokeMessage | null {
  try {
    const message = JSON.parse(data) as Partial<InvokeMessage>;
    if (
      message?.type !== 'invoke' ||
      !Number.isSafeInteger(message.id) ||
      typeof message.channel !== 'string'
    )
      return null;
    return message as InvokeMessage;
  } catch {
    return null;
  }
}

export async function startBrowserMode(options: BrowserModeOptions): Promise<BrowserModeServer> {
  const { log } = options;
  const token = randomBytes(32).toString('base64url');
  const clients = new Set<WebSocket>();
  const listeners = new Map<InvokeChannel, RawListener>();

  const emit: Emit = (channel, payload) => {
    const text = JSON.stringify({ type: 'event', channel, payload });
    for (const client of clients) if (client.readyState === client.OPEN) client.send(text);
  };

  const services = createAppServices({
    userDataDir: options.userDataDir,
    emit,
    log,
    info: {
      name: 'Hearth',
      version: options.version,
      shell: 'browser',
      platform: process.platform,
    },
    // Browser mode has no OS keyring: a private 0600 file vault, as in tests.
    keyVault: new FileKeyVault(join(options.userDataDir, 'vault')),
    resourcesDir: options.resourcesDir,
    ...(options.extraCatalogs ? { extraCatalogs: options.extraCatalogs } : {}),
    ...(options.extraTrustedKeys ? { extraTrustedKeys: options.extraTrustedKeys } : {}),
    ...(options.listen ? { listen: options.listen } : {}),
    ...(options.chooseFile ? { chooseFile: options.chooseFile } : {}),
    documentsDir: options.documentsDir ?? join(homedir(), 'Documents'),
    ...options.timings,
  });
  if (options.discovery) services.start();

  let origin = '';
  const handle = createHandle({
    registrar: { register: (channel, listener) => listeners.set(channel, listener) },
    // The upgrade already proved the token and origin; this keeps the rule in one place.
    isTrustedSender: (sender) => sender.isMainFrame && sender.url === origin,
    log,
  });
  registerIpc(handle, services);

  // dev: true looks each file up per request, so a rebuild that empties the folder gives
  // 404s instead of crashing the server on a vanished file.
  const assets = sirv(options.rendererDir, { dev: true, etag: true });
  const server = createServer((req, res) => {
    res.setHeader(
      'Content-Security-Policy',
      contentSecurityPolicy({ connect: [origin.replace('http:', 'ws:')] }),
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    assets(req, res, () => {
      res.statusCode = 404;
      res.end('Not found');
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== '/ipc') return refuse(socket, '404 Not Found');
    if (!sameSecret(url.searchParams.get('token') ?? '', token)) {
      log.warn('refused a WebSocket without this run’s token');
      return refuse(socket, '401 Unauthorized');
    }
    if (req.headers.origin !== origin) {
      log.warn({ origin: req.headers.origin }, 'refused a WebSocket from another origin');
      return refuse(socket, '403 Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const message = parseInvoke(
          Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Buffer.concat(data instanceof ArrayBuffer ? [Buffer.from(data)] : data).toString(
                'utf8',
              ),
        );
        if (!message) return;
        const listener = listeners.get(message.channel as InvokeChannel);
        const reply = listener
          ? listener({ url: origin, isMainFrame: true }, message.request)
          : Promise.resolve({
              ok: false as const,
              error: { code: 'UNKNOWN_CHANNEL', message: errorMessages.UNKNOWN_CHANNEL },
            });
        void reply.then((result) => {
          if (ws.readyState === ws.OPEN)
            ws.send(JSON.stringify({ type: 'result', id: message.id, result }));
        });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    services,
    close: async () => {
      services.dispose();
      for (const client of clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
