import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HearthError, type ErrorCode } from '../../../shared/errors';
import { RawTcpDevice, closedPort, newHostKey } from './fake-ssh-device';
import { generateEd25519 } from '../keys/ed25519-keygen';
import { fingerprintOf } from './host-key-fingerprint';
import { publicBlobOf } from './fake-ssh-device';
import { connectSsh, type ConnectOptions } from './ssh-connect';
import { useFakeDevices } from './ssh-test-kit';
import type { SshSession } from './ssh-session';

const { cleanups, deviceWith: device } = useFakeDevices();

async function raw(onSocket: Parameters<typeof RawTcpDevice.start>[0]): Promise<RawTcpDevice> {
  const d = await RawTcpDevice.start(onSocket);
  cleanups.push(() => d.stop());
  return d;
}

async function connect(
  d: { port: number; hostKeyFingerprint?: string },
  extra: Partial<ConnectOptions> = {},
): Promise<SshSession> {
  const session = await connectSsh({
    host: '127.0.0.1',
    port: d.port,
    username: 'pi',
    auth: { password: 'right' },
    hostKey: { kind: 'pinned', fingerprint: d.hostKeyFingerprint ?? 'SHA256:none' },
    readyTimeoutMs: 2_000,
    ...extra,
  });
  cleanups.push(async () => {
    session.close();
    await session.closed;
  });
  return session;
}

async function failure(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  return error as HearthError;
}

async function failsWith(promise: Promise<unknown>, code: ErrorCode): Promise<HearthError> {
  const error = await failure(promise);
  expect(error.code).toBe(code);
  return error;
}

describe('connectSsh: sign-in and host keys', () => {
  it('signs in with a password against a pinned key and runs commands', async () => {
    const d = await device();
    const session = await connect(d);
    expect(session.hostKeyFingerprint).toBe(d.hostKeyFingerprint);
    expect(await session.exec('echo hello')).toEqual({
      code: 0,
      signal: null,
      stdout: 'hello\n',
      stderr: '',
    });
    expect(await session.exec('exit 3')).toMatchObject({ code: 3 });
    expect(await session.exec('fail no disk')).toEqual({
      code: 1,
      signal: null,
      stdout: '',
      stderr: 'no disk',
    });
    expect((await session.exec('cat', { stdin: 'from stdin ✓' })).stdout).toBe('from stdin ✓');
    expect((await session.exec('cat', { stdin: Buffer.from([104, 105]) })).stdout).toBe('hi');
    expect(d.authAttempts.map((a) => a.method)).toContain('password');
  });

  it('writes files over SFTP with their mode set', async () => {
    const d = await device();
    const session = await connect(d);
    const big = randomBytes(200_000);
    await session.writeFile('/etc/hearth/device.json', '{"id":"x"}', 0o600);
    await session.writeFile('/var/lib/hearth/blob', big);
    expect(d.files.get('/etc/hearth/device.json')).toEqual({
      data: Buffer.from('{"id":"x"}'),
      mode: 0o600,
    });
    expect(d.files.get('/var/lib/hearth/blob')?.data.equals(big)).toBe(true);
    expect(d.files.get('/var/lib/hearth/blob')?.mode).toBe(0o644);
  });

  it('reports a refused SFTP write as a failed step', async () => {
    const d = await device();
    const session = await connect(d);
    const error = await failsWith(session.writeFile('relative/path', 'x'), 'DEVICE_GARBLED');
    expect(error.message).toContain('relative/path');
  });

  it('trusts on first use only after the owner confirmed, and says what it was shown', async () => {
    const d = await device();
    const shown: string[] = [];
    const session = await connect(d, {
      hostKey: { kind: 'confirm', confirm: async (fp) => (shown.push(fp), true) },
    });
    expect(shown).toEqual([d.hostKeyFingerprint]);
    expect(session.hostKeyFingerprint).toBe(d.hostKeyFingerprint);
  });

  it('does not count the time the owner takes to confirm against the ready timeout', async () => {
    const d = await device();
    const session = await connect(d, {
      readyTimeoutMs: 300,
      hostKey: {
        kind: 'confirm',
        confirm: () => new Promise((resolve) => setTimeout(() => resolve(true), 600)),
      },
    });
    expect((await session.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('refuses when the owner declines, before any sign-in attempt', async () => {
    const d = await device();
    await failsWith(
      connect(d, { hostKey: { kind: 'confirm', confirm: async () => false } }),
      'HOST_KEY_NOT_CONFIRMED',
    );
    expect(d.authAttempts).toEqual([]);
  });

  it('refuses when the confirmation itself fails', async () => {
    const d = await device();
    await failsWith(
      connect(d, {
        hostKey: { kind: 'confirm', confirm: () => Promise.reject(new Error('window closed')) },
      }),
      'HOST_KEY_NOT_CONFIRMED',
    );
    expect(d.authAttempts).toEqual([]);
  });

  it('refuses a changed host key naming both fingerprints, and sends no password', async () => {
    const known = fingerprintOf(publicBlobOf(newHostKey()));
    const d = await device();
    const error = await failsWith(
      connect(d, { hostKey: { kind: 'pinned', fingerprint: known } }),
      'HOST_KEY_CHANGED',
    );
    expect(error.message).toContain(`It was ${known} and is now ${d.hostKeyFingerprint}.`);
    expect(error.message).not.toContain('right');
    expect(d.authAttempts).toEqual([]);
  });

  it('says WRONG_PASSWORD for a wrong password, without echoing it', async () => {
    const d = await device();
    const error = await failsWith(
      connect(d, { auth: { password: 'wrong-secret' } }),
      'WRONG_PASSWORD',
    );
    expect(error.message).not.toContain('wrong-secret');
    expect(JSON.stringify(error)).not.toContain('wrong-secret');
  });

  it('signs in with a private key', async () => {
    const pair = generateEd25519('hearth@test');
    const d = await device({ authorizedKeys: [pair.publicKey] });
    const session = await connect(d, { auth: { privateKey: pair.privateKey } });
    expect((await session.exec('echo key')).stdout).toBe('key\n');
    expect(d.authAttempts.map((a) => a.method)).not.toContain('password');
  });
});

describe('connectSsh: devices that misbehave', () => {
  it('says DEVICE_REFUSED for a closed port', async () => {
    await failsWith(connect({ port: await closedPort() }), 'DEVICE_REFUSED');
  });

  it('says DEVICE_UNREACHABLE for a name that does not resolve', async () => {
    await failsWith(
      connectSsh({
        host: 'no-such-device.invalid',
        username: 'pi',
        auth: { password: 'x' },
        hostKey: { kind: 'pinned', fingerprint: 'SHA256:x' },
      }),
      'DEVICE_UNREACHABLE',
    );
  });

  it('says DEVICE_TIMEOUT within the ready timeout when the device never sends a banner', async () => {
    const d = await raw(() => undefined);
    const started = Date.now();
    await failsWith(connect(d, { readyTimeoutMs: 300 }), 'DEVICE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    // Hearth hung up: the stalled server sees its socket closed.
    await expect.poll(() => d.openSockets).toBe(0);
  });

  it('says DEVICE_GARBLED when random bytes come instead of an SSH banner', async () => {
    const d = await raw((socket) => socket.end(randomBytes(64 * 1024)));
    await failsWith(connect(d), 'DEVICE_GARBLED');
  });

  it('says DEVICE_GARBLED when random lines never turn into a banner', async () => {
    const d = await raw((socket) => {
      const spam = setInterval(() => socket.write(`${randomBytes(30).toString('hex')}\r\n`), 1);
      socket.on('close', () => clearInterval(spam));
    });
    await failsWith(connect(d), 'DEVICE_GARBLED');
  });

  it('says CONNECTION_LOST when the device hangs up before the handshake', async () => {
    const d = await raw((socket) => socket.end());
    await failsWith(connect(d), 'CONNECTION_LOST');
  });

  it('is CANCELLED by its signal while connecting, and hangs up', async () => {
    const d = await raw(() => undefined);
    const controller = new AbortController();
    const pending = connect(d, { signal: controller.signal, readyTimeoutMs: 5_000 });
    setTimeout(() => controller.abort(), 50);
    await failsWith(pending, 'CANCELLED');
    await expect.poll(() => d.openSockets).toBe(0);
  });

  it('is CANCELLED at once by a signal that is already aborted', async () => {
    await failsWith(connect({ port: 1 }, { signal: AbortSignal.abort() }), 'CANCELLED');
  });

  it('is CANCELLED while the owner is still looking at the fingerprint', async () => {
    const d = await device();
    const controller = new AbortController();
    const pending = connect(d, {
      signal: controller.signal,
      hostKey: { kind: 'confirm', confirm: () => new Promise<boolean>(() => undefined) },
    });
    setTimeout(() => controller.abort(), 50);
    await failsWith(pending, 'CANCELLED');
    expect(d.authAttempts).toEqual([]);
  });
});
