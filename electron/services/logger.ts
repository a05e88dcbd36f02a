// Structured logs (pino) for diagnosis. Secrets must never reach a log, so the fields
// that could carry one are redacted by name whatever code logs them.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Field names that carry a secret wherever they appear in a logged object. */
export const secretFieldNames = [
  'password',
  'sudoPassword',
  'passphrase',
  'privateKey',
  'token',
  'secret',
] as const;

/**
 * pino's redaction matches paths, not names at any depth, so each name is listed at the top
 * level and under one to four objects: `{ request: { password } }` (an IPC request logged
 * beside its channel) and `{ err: { request: { auth: { sudoPassword } } } }` alike. Deeper
 * than that is not redacted; nothing Hearth logs nests a secret that far.
 */
export const SECRET_DEPTH = 4;
export const redactedFields: string[] = secretFieldNames.flatMap((name) =>
  Array.from({ length: SECRET_DEPTH + 1 }, (_, depth) =>
    [...Array<string>(depth).fill('*'), name].join('.'),
  ),
);

export function createLogger(
  options: { destination?: string | number; level?: string } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: redactedFields, censor: '[redacted]' },
      base: null,
    },
    pino.destination({ dest: options.destination ?? 2, sync: true, mkdir: true }),
  );
}

/** A logger that drops everything, for tests that don't look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
