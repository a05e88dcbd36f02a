import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAppFile, serveAppRequest } from './app-protocol';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-proto-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html>');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('app:// protocol', () => {
  it('serves the renderer with the CSP header', async () => {
    const res = await serveAppRequest(dir, new Request('app://hearth/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('never serves a file outside the renderer folder, or another host', () => {
    expect(resolveAppFile(dir, 'app://hearth/../../etc/passwd')).toBe(join(dir, 'etc', 'passwd'));
    expect(resolveAppFile(dir, 'app://hearth/%2e%2e/%2e%2e/etc/passwd')).toBe(
      join(dir, 'etc', 'passwd'),
    );
    expect(resolveAppFile(dir, 'app://hearth/..%2f..%2f..%2fetc%2fpasswd')).toBeNull();
    expect(resolveAppFile(dir, 'app://other/index.html')).toBeNull();
  });

  it('answers 404 for what is not there', async () => {
    expect((await serveAppRequest(dir, new Request('app://hearth/missing.js'))).status).toBe(404);
  });
});
