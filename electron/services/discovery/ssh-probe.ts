// Connects to a device's SSH port and reads its identification line, with a short
// timeout and cancel. Failures become HearthErrors an owner can act on.
import { createConnection } from 'node:net';
import { HearthError } from '../../../shared/errors';
import { findBannerLine } from './ssh-banner';
import type { Timers } from './types';
import { systemTimers } from './types';

/** The parts of a net.Socket a probe uses; tests pass a fake. */
export interface ProbeSocket {
  on(event: 'connect', listener: () => void): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  destroy(): void;
}

export type TcpConnector = (host: string, port: number) => ProbeSocket;

export const netConnector: TcpConnector = (host, port) => createConnection({ host, port });

export interface ProbeOptions {
  connect: TcpConnector;
  timeoutMs: number;
  signal?: AbortSignal;
  timers?: Timers;
}

const unreachableCodes = new Set([
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Resolves with the server's identification line ("SSH-2.0-…"). */
export function readSshBanner(host: string, port: number, options: ProbeOptions): Promise<string> {
  const timers = options.timers ?? systemTimers;
  return new Promise<string>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new HearthError('CANCELLED'));
    let settled = false;
    let received = '';
    let socket: ProbeSocket | undefined;
    const finish = (error: HearthError | undefined, banner?: string) => {
      if (settled) return;
      settled = true;
      timers.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      try {
        socket?.destroy();
      } catch {
        // already closed
      }
      if (error) reject(error);
      else resolve(banner ?? '');
    };
    const onAbort = () => finish(new HearthError('CANCELLED'));
    const timer = timers.setTimeout(
      () => finish(new HearthError('DEVICE_TIMEOUT')),
      options.timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      socket = options.connect(host, port);
    } catch (error) {
      return finish(new HearthError('DEVICE_UNREACHABLE', undefined, { cause: error }));
    }
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const line = findBannerLine(received);
      if (line === 'incomplete') return;
      if (line === 'not-ssh') return finish(new HearthError('DEVICE_REFUSED'));
      finish(undefined, line.line);
    });
    socket.on('error', (error) => {
      const code = error.code ?? '';
      if (code === 'ECONNREFUSED' || code === 'ECONNRESET')
        return finish(new HearthError('DEVICE_REFUSED', undefined, { cause: error }));
      if (code === 'ETIMEDOUT')
        return finish(new HearthError('DEVICE_TIMEOUT', undefined, { cause: error }));
      if (unreachableCodes.has(code))
        return finish(new HearthError('DEVICE_UNREACHABLE', undefined, { cause: error }));
      finish(new HearthError('DEVICE_UNREACHABLE', undefined, { cause: error }));
    });
    socket.on('close', () => {
      // Closed before a full identification line: it answered, but not as SSH.
      finish(new HearthError('DEVICE_REFUSED'));
    });
  });
}
