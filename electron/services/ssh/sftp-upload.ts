// Sends a local file to the device over SFTP, resuming: when the remote file already holds
// part of it (a cut cable, a cancel), only the rest is sent. Callers check the whole file's
// hash on the device afterwards, so a damaged prefix is caught and thrown away, never trusted.
import { open } from 'node:fs/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { HearthError } from '../../../shared/errors';
import type { ExecTracker } from './ssh-exec';

const CHUNK = 64 * 1024;
/** A link that moves no byte for this long is treated as gone. */
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export interface UploadOptions {
  mode: number;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
  idleTimeoutMs?: number;
}

export interface UploadResult {
  /** Bytes that were already on the device and not sent again. */
  resumedFrom: number;
  size: number;
}

function call<T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void) {
  return new Promise<T>((resolve, reject) => {
    run((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

async function remoteSize(sftp: SFTPWrapper, path: string): Promise<number> {
  try {
    return (await call<{ size?: number }>((done) => sftp.stat(path, done))).size ?? 0;
  } catch {
    return 0; // not there yet
  }
}

async function send(
  sftp: SFTPWrapper,
  remotePath: string,
  localPath: string,
  options: UploadOptions,
  alive: () => void,
): Promise<UploadResult> {
  const local = await open(localPath, 'r').catch((cause: unknown) => {
    throw new HearthError(
      'INTERNAL',
      'Hearth could not read the file to send on this computer. Try again.',
      { cause },
    );
  });
  try {
    const size = (await local.stat()).size;
    const already = await remoteSize(sftp, remotePath);
    // More than the whole file cannot be a prefix of it: start again.
    const resumedFrom = already <= size ? already : 0;
    const handle = await call<Buffer>((done) =>
      sftp.open(remotePath, resumedFrom > 0 ? 'r+' : 'w', { mode: options.mode }, done),
    );
    try {
      await call<void>((done) => sftp.fchmod(handle, options.mode, done));
      const buffer = Buffer.alloc(CHUNK);
      for (let offset = resumedFrom; offset < size;) {
        if (options.signal?.aborted) throw new HearthError('CANCELLED');
        const { bytesRead } = await local.read(buffer, 0, CHUNK, offset);
        if (bytesRead === 0) break;
        await call<void>((done) => sftp.write(handle, buffer, 0, bytesRead, offset, done));
        offset += bytesRead;
        alive();
        options.onProgress?.(offset, size);
      }
    } finally {
      await call<void>((done) => sftp.close(handle, done)).catch(() => undefined);
    }
    return { resumedFrom, size };
  } finally {
    await local.close();
  }
}

export function sftpUploadFile(
  client: Client,
  remotePath: string,
  localPath: string,
  options: UploadOptions,
  session: ExecTracker,
): Promise<UploadResult> {
  return new Promise<UploadResult>((resolve, reject) => {
    const ended = session.ended();
    if (ended) return reject(ended);
    let sftp: SFTPWrapper | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: HearthError | null, result?: UploadResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      untrack();
      options.signal?.removeEventListener('abort', onAbort);
      sftp?.end();
      if (error) reject(error);
      else resolve(result!);
    };
    const alive = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => finish(new HearthError('CONNECTION_LOST')),
        options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      );
    };
    const onAbort = (): void => finish(new HearthError('CANCELLED'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const untrack = session.track(finish);
    alive();
    const failed = (cause: unknown): HearthError =>
      session.ended() ??
      (cause instanceof HearthError
        ? cause
        : new HearthError(
            'DEVICE_GARBLED',
            `The device did not accept the file ${remotePath}. Try again; if it keeps happening, restart the device.`,
            { cause },
          ));
    try {
      client.sftp((error, opened) => {
        if (error) return finish(failed(error));
        sftp = opened;
        opened.on('error', () => undefined);
        if (settled) return opened.end();
        send(opened, remotePath, localPath, options, alive).then(
          (result) => finish(null, result),
          (cause: unknown) => finish(failed(cause)),
        );
      });
    } catch (error) {
      finish(session.ended() ?? new HearthError('CONNECTION_LOST', undefined, { cause: error }));
    }
  });
}
