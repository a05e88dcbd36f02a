// The renderer is served from app://hearth/ rather than file://: a real origin the IPC
// sender check can compare against, and a place to attach the CSP header (file:// pages
// cannot carry response headers).
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Protocol } from 'electron';
import { contentSecurityPolicy } from '../csp';
import { originOf } from './window';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://hearth`;

export const appSchemePrivileges = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Maps a request URL to a file inside rendererDir, or null if it would leave it. */
export function resolveAppFile(rendererDir: string, requestUrl: string): string | null {
  const url = new URL(requestUrl);
  if (originOf(requestUrl) !== APP_ORIGIN) return null;
  const relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
  const file = normalize(join(rendererDir, relative));
  return file.startsWith(normalize(rendererDir) + sep) ? file : null;
}

export async function serveAppRequest(rendererDir: string, request: Request): Promise<Response> {
  const file = resolveAppFile(rendererDir, request.url);
  const headers = {
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
  };
  if (!file) return new Response('Not found', { status: 404, headers });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: {
        ...headers,
        'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream',
      },
    });
  } catch {
    return new Response('Not found', { status: 404, headers });
  }
}

export function registerAppProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(rendererDir, request));
}
