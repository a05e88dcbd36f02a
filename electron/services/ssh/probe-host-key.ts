// Learns a device's host key and SSH banner without signing in: the verifier records the
// key and refuses it, so the handshake stops before authentication and nothing is sent
// but the key exchange. This is what the wizard shows on "Is this your device?".
import { Client } from 'ssh2';
import { HearthError } from '../../../shared/errors';
import { openDeviceSocket, watchIdent } from './device-socket';
import { fingerprintOf, keyAlgorithmOf } from './host-key-fingerprint';
import { sshFailure } from './ssh-errors';

export interface ProbeHostKeyOptions {
  host: string;
  port?: number;
  /** Default 10 s for TCP and key exchange together. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HostKeyProbe {
  /** `SHA256:…` as OpenSSH prints it. */
  fingerprint: string;
  /** The key type, e.g. `ssh-ed25519`. */
  algorithm: string;
  /** The server's identification line, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`. */
  banner: string;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

export function probeHostKey(options: ProbeHostKeyOptions): Promise<HostKeyProbe> {
  const { signal } = options;
  return new Promise<HostKeyProbe>((resolve, reject) => {
    if (signal?.aborted) return reject(new HearthError('CANCELLED'));
    const client = new Client();
    const socket = openDeviceSocket(options.host, options.port ?? 22);
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      outcome();
    };
    const fail = (error: HearthError) => settle(() => reject(error));
    const onAbort = () => fail(new HearthError('CANCELLED'));
    const timer = setTimeout(
      () => fail(new HearthError('DEVICE_TIMEOUT')),
      options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (error) => fail(sshFailure(error, 'connecting')));
    client.on('close', () => fail(new HearthError('CONNECTION_LOST')));

    client.connect({
      sock: socket,
      username: 'hearth',
      readyTimeout: 0,
      // Record and refuse: the probe never authenticates.
      hostVerifier: (key: Buffer) => {
        const probe = {
          fingerprint: fingerprintOf(key),
          algorithm: keyAlgorithmOf(key),
          banner: ident() ?? '',
        };
        settle(() => resolve(probe));
        return false;
      },
    });
    const ident = watchIdent(socket, () => fail(new HearthError('DEVICE_GARBLED')));
  });
}
