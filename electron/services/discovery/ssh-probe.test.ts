// readSshBanner against real TCP sockets on 127.0.0.1.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { netConnector, readSshBanner } from './ssh-probe';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(onConnect: (socket: Socket) => void): Promise<number> {
  const server = createServer(onConnect);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('readSshBanner (real sockets)', () => {
  it('reads the identification line', async () => {
    const port = await serve((s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    await expect(
      readSshBanner('127.0.0.1', port, { connect: netConnector, timeoutMs: 2_000 }),
    ).resolves.toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3');
  });

  it('says refused when nothing listens, and when something else answers', async () => {
    const closed = await serve(() => undefined);
    await new Promise((r) => servers.pop()?.close(r));
    await expect(
      readSshBanner('127.0.0.1', closed, { connect: netConnector, timeoutMs: 2_000 }),
    ).rejects.toMatchObject({ code: 'DEVICE_REFUSED' });
    const http = await serve((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await expect(
      readSshBanner('127.0.0.1', http, { connect: netConnector, timeoutMs: 2_000 }),
    ).rejects.toMatchObject({
      code: 'DEVICE_REFUSED',
    });
  });

  it('times out on a server that says nothing, and stops on abort', async () => {
    const silent = await serve(() => undefined);
    await expect(
      readSshBanner('127.0.0.1', silent, { connect: netConnector, timeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: 'DEVICE_TIMEOUT',
    });
    const controller = new AbortController();
    const pending = readSshBanner('127.0.0.1', silent, {
      connect: netConnector,
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
