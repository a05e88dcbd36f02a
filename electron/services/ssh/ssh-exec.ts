// Runs one command on an open connection with hard bounds: a time limit, an output limit
// (a broken or hostile device must not fill the laptop's memory), and cancel. Whatever
// goes wrong, the channel is closed and the caller gets one HearthError.
import type { Client, ClientChannel } from 'ssh2';
import { HearthError } from '../../../shared/errors';

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed (EOF). */
  stdin?: string | Buffer;
  /** Default 10 minutes; past it the channel is closed and COMMAND_TIMEOUT raised. */
  timeoutMs?: number;
  /** stdout + stderr together; default 1 MiB. Past it: DEVICE_GARBLED, channel closed. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** Each piece of stdout as it arrives (it is in the result too), for a report that comes early. */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  /** The exit status, or null when the command was killed by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** How the session lets an exec know the connection ended under it. */
export interface ExecTracker {
  /** Registers a failure callback; returns the function that unregisters it. */
  track(fail: (error: HearthError) => void): () => void;
  /** Why the session ended, or null while it is open. */
  ended(): HearthError | null;
}

export function runExec(
  client: Client,
  command: string,
  options: ExecOptions,
  session: ExecTracker,
): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const { signal } = options;

  return new Promise<ExecResult>((resolve, reject) => {
    const ended = session.ended();
    if (ended) return reject(ended);
    if (signal?.aborted) return reject(new HearthError('CANCELLED'));

    let channel: ClientChannel | undefined;
    let settled = false;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;

    const finish = (error: HearthError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      untrack();
      if (error) {
        if (channel) {
          // Stop keeping what arrives; the stream stays flowing so late data is dropped.
          channel.removeAllListeners('data');
          channel.stderr.removeAllListeners('data');
          stdout.length = 0;
          stderr.length = 0;
          channel.close();
        }
        reject(error);
        return;
      }
      resolve({
        code: exitCode,
        signal: exitSignal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    };
    const onAbort = (): void => finish(new HearthError('CANCELLED'));
    const timer = setTimeout(() => finish(new HearthError('COMMAND_TIMEOUT')), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const untrack = session.track(finish);

    const collect =
      (into: Buffer[]) =>
      (chunk: Buffer): void => {
        if (settled) return;
        outputBytes += chunk.length;
        if (outputBytes > maxOutput) return finish(new HearthError('DEVICE_GARBLED'));
        into.push(chunk);
      };

    try {
      client.exec(command, (error, stream) => {
        if (error) {
          finish(
            session.ended() ?? new HearthError('CONNECTION_LOST', undefined, { cause: error }),
          );
          return;
        }
        channel = stream;
        // Errors on a channel are reported through the session; never let one go uncaught.
        stream.on('error', () => undefined);
        stream.stderr.on('error', () => undefined);
        if (settled) {
          // Cancelled or timed out while the channel was opening.
          stream.close();
          return;
        }
        const keep = collect(stdout);
        stream.on('data', (chunk: Buffer) => {
          keep(chunk);
          if (settled || !options.onStdout) return;
          // A listener's fault must not take the command down (nor throw in a stream handler).
          try {
            options.onStdout(chunk);
          } catch {
            /* the result still has all of stdout */
          }
        });
        stream.stderr.on('data', collect(stderr));
        stream.on('exit', (code: number | null, signalName?: string) => {
          exitCode = typeof code === 'number' ? code : null;
          exitSignal = typeof signalName === 'string' ? signalName : null;
        });
        stream.on('close', () => {
          // A channel torn down by a lost connection has no exit status: that is not success.
          const lost = session.ended();
          if (lost && exitCode === null && exitSignal === null) finish(lost);
          else finish(null);
        });
        if (options.stdin !== undefined) stream.end(options.stdin);
        else stream.end();
      });
    } catch (error) {
      finish(session.ended() ?? new HearthError('CONNECTION_LOST', undefined, { cause: error }));
    }
  });
}
