// Puts one file on the device over SFTP (no shell quoting, binary-safe). The mode is set
// on the open handle before any byte is written, so a secret never sits world-readable,
// whatever the device's umask. Not atomic: callers that need that write a temp name and
// `mv` it into place with exec.
import type { Client, SFTPWrapper } from 'ssh2';
import { HearthError } from '../../../shared/errors';
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecTracker } from './ssh-exec';

const CHUNK = 32 * 1024;

function step<T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void) {
  return new Promise<T>((resolve, reject) => {
    run((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

async function writeAll(sftp: SFTPWrapper, path: string, data: Buffer, mode: number) {
  const handle = await step<Buffer>((done) => sftp.open(path, 'w', { mode }, done));
  try {
    await step<void>((done) => sftp.fchmod(handle, mode, done));
    for (let offset = 0; offset < data.length; offset += CHUNK) {
      const length = Math.min(CHUNK, data.length - offset);
      await step<void>((done) => sftp.write(handle, data, offset, length, offset, done));
    }
  } finally {
    await step<void>((done) => sftp.close(handle, done)).catch(() => undefined);
  }
}

export function sftpWriteFile(
  client: Client,
  remotePath: string,
  data: Buffer | string,
  mode: number,
  session: ExecTracker,
  timeoutMs: number = DEFAULT_EXEC_TIMEOUT_MS,
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return new Promise<void>((resolve, reject) => {
    const ended = session.ended();
    if (ended) return reject(ended);
    let sftp: SFTPWrapper | undefined;
    let settled = false;
    const finish = (error: HearthError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      untrack();
      sftp?.end();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new HearthError('COMMAND_TIMEOUT')), timeoutMs);
    const untrack = session.track(finish);
    // The device refused the write (no such folder, no permission): a failed step.
    const failed = (cause: unknown) =>
      session.ended() ??
      new HearthError(
        'DEVICE_GARBLED',
        `The device did not accept the file ${remotePath}. Try again; if it keeps happening, restart the device.`,
        { cause },
      );
    try {
      client.sftp((error, opened) => {
        if (error) return finish(session.ended() ?? failed(error));
        sftp = opened;
        opened.on('error', () => undefined);
        if (settled) return opened.end();
        writeAll(opened, remotePath, bytes, mode).then(
          () => finish(null),
          (cause: unknown) => finish(failed(cause)),
        );
      });
    } catch (error) {
      finish(session.ended() ?? new HearthError('CONNECTION_LOST', undefined, { cause: error }));
    }
  });
}
