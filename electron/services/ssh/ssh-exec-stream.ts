// Runs one command whose input or output is too big to hold in memory (a data volume going
// into a backup, a restored volume coming back). Bytes flow through with SSH's own flow
// control in both directions: a consumer that stops reading stops the device from sending
// (the channel's window is not re-opened), and a device that stops taking stdin stops us
// reading the source. What is kept in memory is a window or two, never the payload.
//
// It has the same hard bounds as runExec where they make sense: cancel, a lost connection,
// and instead of a total time limit (a 1 GiB copy over Wi-Fi may take an hour) an idle limit:
// no byte either way for `idleTimeoutMs` means the device or the link is stuck.
import { PassThrough, type Readable } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { HearthError } from '../../../shared/errors';
import type { ExecTracker } from './ssh-exec';

export interface ExecStreamOptions {
  /** Piped into the command's stdin, then EOF; without it stdin is closed at once. */
  stdin?: NodeJS.ReadableStream | Readable;
  signal?: AbortSignal;
  /** No byte in either direction for this long: COMMAND_TIMEOUT. Default 60 s. */
  idleTimeoutMs?: number;
}

export interface ExecStreamResult {
  /** The exit status, or null when the command was killed by a signal. */
  code: number | null;
  signal: string | null;
  /** The first MAX_STREAM_STDERR_BYTES of stderr (the rest is read and dropped). */
  stderr: string;
}

export interface ExecStream {
  /** The command's stdout; on failure it is destroyed with the same error `done` rejects with. */
  stdout: Readable;
  /** Settles when the channel closes; rejects with a HearthError on cancel, idle, lost link. */
  done: Promise<ExecStreamResult>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const MAX_STREAM_STDERR_BYTES = 64 * 1024;

export function runExecStream(
  client: Client,
  command: string,
  options: ExecStreamOptions,
  session: ExecTracker,
): ExecStream {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const { signal, stdin } = options;
  // The caller gets stdout before the channel is open; the pipe into it carries backpressure
  // back to the channel (the PassThrough fills, the channel stops being read, its window closes).
  const stdout = new PassThrough();
  // A caller that only awaits `done` must not crash the process when stdout fails too.
  stdout.on('error', () => undefined);

  let resolveDone!: (result: ExecStreamResult) => void;
  let rejectDone!: (error: HearthError) => void;
  const done = new Promise<ExecStreamResult>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  let channel: ClientChannel | undefined;
  let settled = false;
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  let timer: NodeJS.Timeout | undefined;

  const finish = (error: HearthError | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    untrack();
    stdin?.removeListener('data', onActivity);
    stdin?.removeListener('error', onStdinError);
    if (error) {
      if (channel) {
        if (stdin) stdin.unpipe(channel);
        channel.unpipe(stdout);
        channel.removeAllListeners('data');
        channel.stderr.removeAllListeners('data');
        channel.close();
      }
      stdout.destroy(error);
      rejectDone(error);
      return;
    }
    resolveDone({
      code: exitCode,
      signal: exitSignal,
      stderr: Buffer.concat(stderr).toString('utf8'),
    });
  };

  const armIdle = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, idleMs);
  };
  function onActivity(): void {
    if (!settled) armIdle();
  }
  function onIdle(): void {
    // Our own reader being slow is not the device being stuck: wait for it.
    if (stdout.readableLength >= stdout.readableHighWaterMark || stdout.isPaused()) {
      armIdle();
      return;
    }
    finish(new HearthError('COMMAND_TIMEOUT'));
  }
  function onAbort(): void {
    finish(new HearthError('CANCELLED'));
  }
  function onStdinError(error: unknown): void {
    finish(
      error instanceof HearthError
        ? error
        : new HearthError('INTERNAL', undefined, { cause: error }),
    );
  }

  const untrack = session.track(finish);
  const ended = session.ended();
  if (ended) {
    finish(ended);
    return { stdout, done };
  }
  if (signal?.aborted) {
    finish(new HearthError('CANCELLED'));
    return { stdout, done };
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  armIdle();

  try {
    client.exec(command, (error, stream) => {
      if (error) {
        finish(session.ended() ?? new HearthError('CONNECTION_LOST', undefined, { cause: error }));
        return;
      }
      channel = stream;
      stream.on('error', () => undefined);
      stream.stderr.on('error', () => undefined);
      if (settled) {
        // Cancelled, timed out or lost while the channel was opening.
        stream.close();
        return;
      }
      stream.on('data', onActivity);
      stream.pipe(stdout);
      // stderr shares the channel's window: keep reading it, keep only the start.
      stream.stderr.on('data', (chunk: Buffer) => {
        onActivity();
        if (stderrBytes >= MAX_STREAM_STDERR_BYTES) return;
        const kept = chunk.subarray(0, MAX_STREAM_STDERR_BYTES - stderrBytes);
        stderr.push(kept);
        stderrBytes += kept.length;
      });
      stream.on('exit', (code: number | null, signalName?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        exitSignal = typeof signalName === 'string' ? signalName : null;
      });
      stream.on('close', () => {
        // A channel torn down by a lost connection has no exit status: that is not success.
        const lost = session.ended();
        if (lost && exitCode === null && exitSignal === null) finish(lost);
        else {
          // ssh2 emits 'close' only after 'end', so pipe() has already ended stdout.
          if (stdin) stdin.unpipe(stream);
          finish(null);
        }
      });
      if (stdin) {
        stdin.on('data', onActivity);
        stdin.on('error', onStdinError);
        // pipe() ends the channel (EOF to the command) when the source ends, and waits for
        // the channel's 'drain' (its window re-opened) before reading more.
        stdin.pipe(stream);
      } else stream.end();
    });
  } catch (error) {
    finish(session.ended() ?? new HearthError('CONNECTION_LOST', undefined, { cause: error }));
  }
  return { stdout, done };
}
