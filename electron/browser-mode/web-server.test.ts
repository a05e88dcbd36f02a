import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { silentLogger } from '../services/logger';
import { startBrowserMode } from './web-server';
import type { BrowserModeServer } from './web-server';

let dir: string;
let server: BrowserModeServer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-web-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Hearth</title>');
  server = await startBrowserMode({
    rendererDir: dir,
    userDataDir: join(dir, 'user'),
    version: '1.2.3',
    resourcesDir: join(import.meta.dirname, '..', '..', 'resources'),
    log: silentLogger,
    timings: { checkListenMs: 200 },
  });
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function connect(options: { token?: string; origin?: string } = {}): Promise<WebSocket> {
  const ws = new WebSocket(
    `ws://127.0.0.1:${new URL(server.origin).port}/ipc?token=${options.token ?? server.token}`,
    {
      origin: options.origin ?? server.origin,
    },
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
    ws.once('error', reject);
  });
}

function invoke(ws: WebSocket, id: number, channel: string, request?: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString()) as {
        type: string;
        id?: number;
        result?: unknown;
      };
      if (message.type === 'result' && message.id === id) {
        ws.off('message', onMessage);
        resolve(message.result);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'invoke', id, channel, request }));
  });
}

describe('browser mode server', () => {
  it('listens on 127.0.0.1 only and serves the renderer with a strict CSP', async () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(server.origin + '/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe');
  });

  it('refuses a socket without the token, with a wrong token, or from another origin', async () => {
    await expect(connect({ token: '' })).rejects.toThrow('401');
    await expect(connect({ token: 'x'.repeat(43) })).rejects.toThrow('401');
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow('403');
  });

  it('carries the same contract: requests, validation errors and events', async () => {
    const ws = await connect();
    expect(await invoke(ws, 1, 'app:info')).toEqual({
      ok: true,
      value: expect.objectContaining({ version: '1.2.3', shell: 'browser' }) as unknown,
    });
    expect(await invoke(ws, 2, 'tasks:cancel', { id: 42 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await invoke(ws, 3, 'nope:never')).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_CHANNEL' },
    });

    const events: { channel: string; payload: { state?: string } }[] = [];
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as {
        type: string;
        channel: string;
        payload: { state?: string };
      };
      if (m.type === 'event') events.push(m);
    });
    await invoke(ws, 4, 'settings:update', { theme: 'dark' });
    const started = (await invoke(ws, 5, 'checks:run')) as { ok: true; value: { taskId: string } };
    await expect
      .poll(
        () => events.some((e) => e.channel === 'tasks:updated' && e.payload.state === 'succeeded'),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(events.find((e) => e.channel === 'settings:changed')?.payload).toMatchObject({
      theme: 'dark',
    });
    expect(started.value.taskId).toMatch(/^[a-z0-9-]+$/);
    ws.close();
  });

  it('ignores garbage frames and stays up', async () => {
    const ws = await connect();
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'invoke', id: 'x', channel: 1 }));
    ws.send(Buffer.from([0, 1, 2]), { binary: true });
    expect(await invoke(ws, 7, 'settings:get')).toMatchObject({ ok: true });
    ws.close();
  });
});
