// Structured logs (pino) for diagnosis. Secrets must never reach a log, so the fields
// that could carry one are redacted by name whatever code logs them.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export const redactedFields = [
  'password',
  'passphrase',
  'privateKey',
  'token',
  'secret',
  '*.password',
  '*.passphrase',
  '*.privateKey',
  '*.token',
  '*.secret',
];

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
