// Opens an authenticated SSH connection to a device. The host key is checked in ssh2's
// hostVerifier, which runs after key exchange and before authentication: a device that is
// not the one the owner confirmed never receives the password or Hearth's key.
// The password is handed to ssh2 for this one connection and kept nowhere else.
import { Client, type ConnectConfig } from 'ssh2';
import { HearthError } from '../../../shared/errors';
import { openDeviceSocket, watchIdent } from './device-socket';
import { fingerprintOf } from './host-key-fingerprint';
import { checkHostKey, type HostKeyPolicy } from './host-key-policy';
import { sshFailure } from './ssh-errors';
import { Ssh2Session, type SshSession } from './ssh-session';

export type { HostKeyPolicy } from './host-key-policy';

export interface ConnectOptions {
  host: string;
  port?: number;
  username: string;
  auth: { password: string } | { privateKey: string | Buffer };
  hostKey: HostKeyPolicy;
  /**
   * Time for TCP, handshake and sign-in together (default 20 s). The time the owner spends
   * confirming a fingerprint is not counted: the clock restarts after the answer.
   */
  readyTimeoutMs?: number;
  /** SSH keepalive period (default 10 s); three unanswered ones end the session. */
  keepaliveIntervalMs?: number;
  /** Cancels connecting, and once connected ends the whole session (CANCELLED). */
  signal?: AbortSignal;
}

export const DEFAULT_READY_TIMEOUT_MS = 20_000;
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 10_000;

export function connectSsh(options: ConnectOptions): Promise<SshSession> {
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const { signal } = options;

  return new Promise<SshSession>((resolve, reject) => {
    if (signal?.aborted) return reject(new HearthError('CANCELLED'));
    const client = new Client();
    const socket = openDeviceSocket(options.host, options.port ?? 22);
    let fingerprint: string | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const startClock = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new HearthError('DEVICE_TIMEOUT')), readyTimeoutMs);
    };
    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('ready', onReady);
    };
    const fail = (error: HearthError): void => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(new HearthError('CANCELLED'));
    const onReady = () => {
      if (settled) return;
      cleanup();
      // The session takes over the signal and the error and close events from here.
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      resolve(new Ssh2Session(client, socket, fingerprint!, signal));
    };
    const onError = (error: unknown) => fail(sshFailure(error, 'connecting'));
    const onClose = () => fail(new HearthError('CONNECTION_LOST'));

    // ssh2 may report more than one error for one failure; later ones are ignored, never thrown.
    client.on('error', () => undefined);
    client.on('error', onError);
    client.on('close', onClose);
    client.on('ready', onReady);
    signal?.addEventListener('abort', onAbort, { once: true });

    const config: ConnectConfig = {
      sock: socket,
      username: options.username,
      // Hearth keeps its own clock (see readyTimeoutMs), paused while the owner decides.
      readyTimeout: 0,
      keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: 3,
      // Only what is given: never an agent, never keyboard-interactive prompts.
      tryKeyboard: false,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        fingerprint = fingerprintOf(key);
        if (options.hostKey.kind === 'confirm') clearTimeout(timer);
        checkHostKey(options.hostKey, fingerprint).then(
          () => {
            if (settled) return;
            startClock();
            verify(true);
          },
          (refusal: HearthError) => {
            // Fail first, so the refusal (not ssh2's generic error) is what the caller sees.
            fail(refusal);
            verify(false);
          },
        );
      },
      ...('password' in options.auth
        ? { password: options.auth.password }
        : { privateKey: options.auth.privateKey }),
    };
    startClock();
    try {
      client.connect(config);
      watchIdent(socket, () => fail(new HearthError('DEVICE_GARBLED')));
    } catch (error) {
      // Only a malformed private key throws here; no secret goes into the message.
      fail(new HearthError('INTERNAL', undefined, { cause: error }));
    }
  });
}
