// Test and lab helpers (not used by the shipped app): a throwaway signing key, a valid
// sample index, and a real HTTP server on 127.0.0.1 that can misbehave on purpose.
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CatalogApp, CatalogIndex } from './catalog-schema';
import { catalogKeyId, publicKeyBase64, signCatalog } from './catalog-signature';
import type { TrustedKey } from './catalog-signature';

export interface TestKey {
  privateKey: KeyObject;
  trusted: TrustedKey;
}

/** A fresh key pair: Hearth trusts it only where a test passes `trusted` in. */
export function makeTestKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    trusted: { keyId: catalogKeyId(publicKey), publicKey: publicKeyBase64(publicKey) },
  };
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sampleApp(overrides: Partial<CatalogApp> = {}): CatalogApp {
  return {
    id: 'counter',
    name: 'Counter',
    summary: 'Counts how many times it has started.',
    description: 'A tiny test app that keeps a boot counter on its data volume.',
    versions: [
      {
        version: '1.0.0',
        artifacts: {
          'qemu-x86_64': {
            url: 'http://127.0.0.1:9/counter-1.elf',
            size: 1024,
            sha256: 'a'.repeat(64),
            disk: 'ide',
          },
        },
        resources: {
          memoryMiB: 32,
          volumes: [{ name: 'data', sizeMiB: 16 }],
          ports: [],
          bootArgs: '',
          health: { kind: 'console', pattern: 'READY' },
        },
      },
    ],
    ...overrides,
  };
}

export function sampleIndex(overrides: Partial<CatalogIndex> = {}): CatalogIndex {
  return {
    format: 'hearth-catalog/1',
    name: 'Test apps',
    updated: '2026-11-27T10:00:00Z',
    apps: [sampleApp()],
    ...overrides,
  };
}

export function signedText(index: unknown, key: TestKey): string {
  return JSON.stringify(signCatalog(index, key.privateKey));
}

/** How the test server answers a request for a file. */
export type ServeMode =
  | 'normal'
  /** Honour Range requests, but cut the connection half-way through the first response. */
  | 'cut-once'
  /** Ignore Range: always send the whole file with 200. */
  | 'ignore-range'
  /** Send half, then hang (for cancel tests). */
  | 'stall';

export interface Route {
  body: Uint8Array | string;
  mode?: ServeMode;
  status?: number;
}

export interface TestServer {
  origin: string;
  routes: Map<string, Route>;
  requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

function respond(route: Route, req: IncomingMessage, res: ServerResponse, first: boolean): void {
  const body = Buffer.from(route.body);
  if (route.status && route.status !== 200) {
    res.writeHead(route.status).end();
    return;
  }
  const mode = route.mode ?? 'normal';
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (range?.[1] && mode !== 'ignore-range') {
    start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, {
      'content-length': body.length - start,
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      'accept-ranges': 'bytes',
    });
  } else {
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
  }
  const rest = body.subarray(start);
  if (mode === 'stall' || (mode === 'cut-once' && first)) {
    res.write(rest.subarray(0, Math.floor(rest.length / 2)));
    if (mode === 'cut-once') setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  res.end(rest);
}

export async function startTestServer(routes: Record<string, Route> = {}): Promise<TestServer> {
  const table = new Map(Object.entries(routes));
  const requests: TestServer['requests'] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, range: req.headers.range });
    const route = table.get(path);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const first = !seen.has(path);
    seen.add(path);
    respond(route, req, res, first);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    routes: table,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
