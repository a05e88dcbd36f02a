// The fake device and signed-in session the SSH tests share. A test file calls
// useFakeDevices() once at its top; what a test started is ended after it, newest first.
import { afterEach, expect } from 'vitest';
import { HearthError, type ErrorCode } from '../../../shared/errors';
import { FakeSshDevice, type CommandHandler, type FakeSshDeviceOptions } from './fake-ssh-device';
import { connectSsh } from './ssh-connect';
import type { SshSession } from './ssh-session';

export function useFakeDevices() {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A fake device that takes the password "right". */
  async function deviceWith(options: FakeSshDeviceOptions = {}): Promise<FakeSshDevice> {
    const device = await FakeSshDevice.start({ password: 'right', ...options });
    cleanups.push(() => device.stop());
    return device;
  }

  /** Signed in to `device`, its host key pinned. */
  async function signIn(device: FakeSshDevice, signal?: AbortSignal): Promise<SshSession> {
    const session = await connectSsh({
      host: '127.0.0.1',
      port: device.port,
      username: 'pi',
      auth: { password: 'right' },
      hostKey: { kind: 'pinned', fingerprint: device.hostKeyFingerprint },
      ...(signal ? { signal } : {}),
    });
    cleanups.push(async () => {
      session.close();
      await session.closed;
    });
    return session;
  }

  /** A session on a device that answers each command with `onCommand`. */
  async function sessionOn(
    onCommand: CommandHandler,
    signal?: AbortSignal,
  ): Promise<{ device: FakeSshDevice; session: SshSession }> {
    const device = await deviceWith({ onCommand });
    return { device, session: await signIn(device, signal) };
  }

  return { cleanups, deviceWith, signIn, sessionOn };
}

/** The HearthError `promise` fails with, which must have `code`. */
export async function failsWith(promise: Promise<unknown>, code: ErrorCode): Promise<HearthError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  expect((error as HearthError).code).toBe(code);
  return error as HearthError;
}
