// Turns what ssh2 and the network stack throw into the stable codes of shared/errors.ts.
// The owner only ever reads the code's sentence; the raw error rides along as `cause` for
// logs, and never carries a password (ssh2 does not echo credentials in its errors).
import { HearthError } from '../../../shared/errors';

interface RawError {
  code?: unknown;
  level?: unknown;
  message?: unknown;
}

const UNREACHABLE = new Set([
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EADDRNOTAVAIL',
  'ENETDOWN',
  'EHOSTDOWN',
]);
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Which part of the session failed: before `ready` the device may never have answered. */
export type SshPhase = 'connecting' | 'connected';

export function sshFailure(error: unknown, phase: SshPhase): HearthError {
  if (error instanceof HearthError) return error;
  const raw = (typeof error === 'object' && error !== null ? error : {}) as RawError;
  const code = typeof raw.code === 'string' ? raw.code : undefined;
  const level = typeof raw.level === 'string' ? raw.level : undefined;
  const message = typeof raw.message === 'string' ? raw.message : '';
  const as = (c: ConstructorParameters<typeof HearthError>[0]) =>
    new HearthError(c, undefined, { cause: error });

  if (code === 'ECONNREFUSED') return as('DEVICE_REFUSED');
  if (code !== undefined && UNREACHABLE.has(code)) return as('DEVICE_UNREACHABLE');
  if (code === 'ETIMEDOUT')
    return as(phase === 'connecting' ? 'DEVICE_TIMEOUT' : 'CONNECTION_LOST');
  if (code !== undefined && DROPPED.has(code)) return as('CONNECTION_LOST');
  // ssh2 tags its own errors with a level.
  if (level === 'client-authentication') return as('WRONG_PASSWORD');
  if (level === 'client-timeout')
    // Before ready: the handshake timed out. After: keepalives went unanswered.
    return as(phase === 'connecting' ? 'DEVICE_TIMEOUT' : 'CONNECTION_LOST');
  if (level === 'protocol' && message === 'Connection lost before handshake')
    return as('CONNECTION_LOST');
  // Not speaking SSH (garbage instead of a banner), a broken packet, no common algorithm.
  if (level === 'protocol' || level === 'handshake') return as('DEVICE_GARBLED');
  // ssh2's parser throws plain errors (no code, no level) on bytes that are not SSH.
  if (code === undefined && level === undefined) return as('DEVICE_GARBLED');
  // A DISCONNECT message from the device (numeric code), or anything else that ended the link.
  return as('CONNECTION_LOST');
}
