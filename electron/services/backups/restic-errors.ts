// What restic's failures mean to an owner. restic 0.14 exits 1 for nearly every fatal error
// (the distinct exit codes for locked / wrong password / no repository came later), so the
// only reliable signal is its stderr. That text is for the log; the owner reads the sentence
// of the code it maps to, never restic's words.
import { HearthError } from '../../../shared/errors';
import type { ErrorCode } from '../../../shared/errors';

export type ResticFailure =
  | 'wrong-password'
  | 'no-repository'
  | 'locked'
  | 'disk-full'
  | 'already-initialized'
  | 'damaged'
  | 'other';

// Order matters: a locked repository's message mentions nothing else below, but "no space
// left" can appear beside other words, so the specific phrases are tried first.
const patterns: [ResticFailure, RegExp][] = [
  ['wrong-password', /wrong password or no key found/i],
  ['locked', /repository is already locked/i],
  ['disk-full', /no space left on device|disk quota exceeded/i],
  ['already-initialized', /config file already exists/i],
  [
    'no-repository',
    /Is there a repository at the following location\?|unable to open config file|repository does not exist/i,
  ],
  ['damaged', /repository contains errors/i],
];

export function classifyResticFailure(stderr: string): ResticFailure {
  for (const [kind, pattern] of patterns) if (pattern.test(stderr)) return kind;
  return 'other';
}

const codes: Record<ResticFailure, ErrorCode> = {
  'wrong-password': 'BACKUP_WRONG_PASSWORD',
  'no-repository': 'BACKUP_NO_REPOSITORY',
  locked: 'BACKUP_LOCKED',
  'disk-full': 'BACKUP_DISK_FULL',
  'already-initialized': 'BACKUP_FOLDER_NOT_EMPTY',
  damaged: 'BACKUP_DAMAGED',
  other: 'BACKUP_FAILED',
};

/** A restic run that failed, as the error the owner sees. `detail` goes to `cause` only. */
export function resticError(kind: ResticFailure, detail?: string): HearthError {
  return new HearthError(codes[kind], undefined, {
    cause: detail === undefined ? undefined : new Error(detail),
  });
}

/** Spawning restic itself failed: the binary is missing or cannot be run. */
export function resticMissing(cause: unknown): HearthError {
  return new HearthError('RESTIC_MISSING', undefined, { cause });
}

/** restic answered with output Hearth cannot read (a newer or broken restic). */
export function resticGarbled(detail: string): HearthError {
  return new HearthError('BACKUP_FAILED', undefined, { cause: new Error(detail) });
}
