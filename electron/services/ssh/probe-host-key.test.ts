import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { FakeSshDevice, RawTcpDevice, closedPort } from './fake-ssh-device';
import { probeHostKey } from './probe-host-key';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  return (error as HearthError).code;
}

describe('probeHostKey', () => {
  it('learns the fingerprint, key type and banner without signing in', async () => {
    const device = await FakeSshDevice.start({ password: 'right' });
    cleanups.push(() => device.stop());
    const probe = await probeHostKey({ host: '127.0.0.1', port: device.port });
    expect(probe.fingerprint).toBe(device.hostKeyFingerprint);
    expect(probe.algorithm).toBe('ssh-ed25519');
    expect(probe.banner).toMatch(/^SSH-2\.0-ssh2js\S+$/);
    expect(device.authAttempts).toEqual([]);
  });

  it('reads a banner that follows greeting lines, as OpenSSH sends it', async () => {
    // Only the banner, then silence: the probe times out, but we check what it parses first.
    const device = await RawTcpDevice.start((socket) =>
      socket.write('Welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'),
    );
    cleanups.push(() => device.stop());
    expect(
      await codeOf(probeHostKey({ host: '127.0.0.1', port: device.port, timeoutMs: 300 })),
    ).toBe('DEVICE_TIMEOUT');
  });

  it('maps failures: refused, stalled, garbage, cancelled', async () => {
    expect(await codeOf(probeHostKey({ host: '127.0.0.1', port: await closedPort() }))).toBe(
      'DEVICE_REFUSED',
    );
    const stalled = await RawTcpDevice.start(() => undefined);
    const garbage = await RawTcpDevice.start((socket) => socket.end(randomBytes(4096)));
    cleanups.push(
      () => stalled.stop(),
      () => garbage.stop(),
    );
    expect(
      await codeOf(probeHostKey({ host: '127.0.0.1', port: stalled.port, timeoutMs: 200 })),
    ).toBe('DEVICE_TIMEOUT');
    expect(await codeOf(probeHostKey({ host: '127.0.0.1', port: garbage.port }))).toBe(
      'DEVICE_GARBLED',
    );
    const controller = new AbortController();
    const pending = probeHostKey({
      host: '127.0.0.1',
      port: stalled.port,
      signal: controller.signal,
    });
    controller.abort();
    expect(await codeOf(pending)).toBe('CANCELLED');
  });
});
