// The one way Hearth runs a script on a device as the hearth account: `sh -c` with a first
// line naming the operation (`# hearth:console-since counter 1024`), so the device's logs and
// the test device (fake-device.ts) can tell operations apart, and one mapping of a failed
// script to a sentence an owner can act on.
import { HearthError } from '../../../shared/errors';
import type { SshSession } from '../ssh/ssh-session';
import type { ExecResult, ExecStream, ExecStreamOptions } from '../ssh/ssh-session';
import { shellQuote } from './shell-quote';

export interface ScriptOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RunOptions extends ScriptOptions {
  /** stdout as it arrives (a report that comes before the script ends). */
  onStdout?: (chunk: Buffer) => void;
}

export type ScriptSession = Pick<SshSession, 'exec'>;

const DEFAULT_TIMEOUT_MS = 60_000;
/** Words that can follow the tag: ids, hashes, numbers (all validated before they get here). */
const TAG_WORD = /^[A-Za-z0-9._:-]{1,128}$/;

/** The command line for one operation; `args` are plain words that name what it is about. */
export function operationCommand(op: string, args: readonly (string | number)[], script: string) {
  const words = [op, ...args.map(String)];
  for (const word of words)
    if (!TAG_WORD.test(word)) throw new Error(`not a plain word: ${JSON.stringify(word)}`);
  return `sh -c ${shellQuote(`# hearth:${words.join(' ')}\n${script}`)}`;
}

/** Runs the operation and returns its result whatever its exit status. */
export function runOperation(
  session: ScriptSession,
  op: string,
  args: readonly (string | number)[],
  script: string,
  options: RunOptions = {},
): Promise<ExecResult> {
  return session.exec(operationCommand(op, args, script), {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStdout ? { onStdout: options.onStdout } : {}),
  });
}

/**
 * Runs the operation with streamed stdin/stdout (volumes): the same tagged command line, over
 * SshSession.execStream. The caller judges the exit status in `done`.
 */
export function streamOperation(
  session: Pick<SshSession, 'execStream'>,
  op: string,
  args: readonly (string | number)[],
  script: string,
  options: ExecStreamOptions = {},
): ExecStream {
  return session.execStream(operationCommand(op, args, script), options);
}

/**
 * Runs the operation; a non-zero exit becomes DEVICE_STEP_FAILED naming `what` Hearth was
 * doing ("create its storage"), or DISK_NEARLY_FULL when the device said so.
 */
export async function checkOperation(
  session: ScriptSession,
  op: string,
  args: readonly (string | number)[],
  script: string,
  what: string,
  options: ScriptOptions = {},
): Promise<string> {
  const result = await runOperation(session, op, args, script, options);
  if (result.code !== 0) throw operationFailed(what, result);
  return result.stdout;
}

export function operationFailed(what: string, result: Pick<ExecResult, 'stderr'>): HearthError {
  if (/no space left/i.test(result.stderr)) return new HearthError('DISK_NEARLY_FULL');
  // sudo refusing the agent: a device prepared by an older Hearth (no agent, another rule).
  if (
    /a password is required|not allowed to (execute|run)|is not in the sudoers/i.test(result.stderr)
  )
    return new HearthError('DEVICE_NEEDS_PREPARING');
  return new HearthError(
    'DEVICE_STEP_FAILED',
    `The device could not ${what}. Try again; Hearth picks up where it stopped.`,
  );
}
