// One authenticated connection to a device. It knows why it ended (lost, cancelled,
// closed), so every pending and later command fails with that reason instead of hanging.
import type { Socket } from 'node:net';
import type { Client } from 'ssh2';
import { HearthError } from '../../../shared/errors';
import { sftpUploadFile, type UploadOptions, type UploadResult } from './sftp-upload';
import { sftpWriteFile } from './sftp-write';
import { runExecStream, type ExecStream, type ExecStreamOptions } from './ssh-exec-stream';
import { runExec, type ExecOptions, type ExecResult, type ExecTracker } from './ssh-exec';
import { sshFailure } from './ssh-errors';

export type { ExecOptions, ExecResult } from './ssh-exec';
export type { UploadOptions, UploadResult } from './sftp-upload';
export type { ExecStream, ExecStreamOptions, ExecStreamResult } from './ssh-exec-stream';

export interface SshSession {
  /** The device's host key as OpenSSH prints it (`SHA256:…`), verified before sign-in. */
  readonly hostKeyFingerprint: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * A command whose stdin and stdout are streams, for payloads too big to hold (volumes):
   * backpressure both ways, stderr capped, an idle limit instead of a total one. `done`
   * rejects with CANCELLED on `signal`, COMMAND_TIMEOUT when idle, or the session's reason
   * when the connection ends under it; `stdout` is then destroyed with the same error.
   */
  execStream(command: string, options?: ExecStreamOptions): ExecStream;
  /** Over SFTP; `mode` (default 0o644) is set before any byte is written. */
  writeFile(remotePath: string, data: Buffer | string, mode?: number): Promise<void>;
  /** A local file over SFTP, sending only what the remote file does not hold yet. */
  uploadFile(remotePath: string, localPath: string, options: UploadOptions): Promise<UploadResult>;
  /** Ends the connection; pending commands fail with CANCELLED. Safe to call twice. */
  close(): void;
  /** Settles (never rejects) once the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;
}

/** How long a polite goodbye may take before the socket is simply destroyed. */
const CLOSE_GRACE_MS = 2_000;

export class Ssh2Session implements SshSession {
  readonly hostKeyFingerprint: string;
  readonly closed: Promise<void>;
  readonly #client: Client;
  readonly #socket: Socket;
  readonly #pending = new Set<(error: HearthError) => void>();
  readonly #signal: AbortSignal | undefined;
  #ended: HearthError | null = null;
  readonly #tracker: ExecTracker = {
    track: (fail) => {
      this.#pending.add(fail);
      return () => this.#pending.delete(fail);
    },
    ended: () => this.#ended,
  };

  /** `client` must be ready over `socket`; `signal`, if given, ends the whole session when aborted. */
  constructor(client: Client, socket: Socket, hostKeyFingerprint: string, signal?: AbortSignal) {
    this.#client = client;
    this.#socket = socket;
    this.hostKeyFingerprint = hostKeyFingerprint;
    this.#signal = signal;
    client.on('error', (error) => this.#end(sshFailure(error, 'connected')));
    this.closed = new Promise<void>((resolve) => {
      client.once('close', () => {
        this.#end(new HearthError('CONNECTION_LOST'));
        resolve();
      });
    });
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return runExec(this.#client, command, options, this.#tracker);
  }

  execStream(command: string, options: ExecStreamOptions = {}): ExecStream {
    return runExecStream(this.#client, command, options, this.#tracker);
  }

  writeFile(remotePath: string, data: Buffer | string, mode = 0o644): Promise<void> {
    return sftpWriteFile(this.#client, remotePath, data, mode, this.#tracker);
  }

  uploadFile(remotePath: string, localPath: string, options: UploadOptions): Promise<UploadResult> {
    return sftpUploadFile(this.#client, remotePath, localPath, options, this.#tracker);
  }

  close(): void {
    if (this.#ended) return;
    this.#end(new HearthError('CANCELLED'));
    this.#client.end();
    // A dead link never completes the goodbye; do not wait for TCP to give up.
    const force = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
    force.unref();
    void this.closed.then(() => clearTimeout(force));
  }

  readonly #onAbort = (): void => {
    if (this.#ended) return;
    this.#end(new HearthError('CANCELLED'));
    this.#socket.destroy();
  };

  /** Records the first reason the session ended and fails everything still waiting. */
  #end(reason: HearthError): void {
    if (this.#ended) return;
    this.#ended = reason;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const fail of [...this.#pending]) fail(reason);
    this.#pending.clear();
  }
}
