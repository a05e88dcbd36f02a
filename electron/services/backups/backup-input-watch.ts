// Watches the stream a backup reads from, from the moment the run starts: restic opens the
// repository before it reads, and an input that fails in that time must stop the run too.
import type { Readable } from 'node:stream';

/** Notices a backup input failing (an error, or a close before its end) at any moment. */
export class BackupInputWatch {
  failure: Error | null = null;
  onFailure: ((err: Error) => void) | null = null;
  private ended = false;
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onEnd = () => (this.ended = true);
  private readonly onClose = () => {
    if (!this.ended) this.fail(new Error('backup input closed before its end'));
  };

  constructor(private readonly input: Readable) {
    input.on('error', this.onError);
    input.once('end', this.onEnd);
    input.once('close', this.onClose);
  }

  private fail(err: Error) {
    this.failure ??= err;
    this.onFailure?.(err);
  }

  /** Stops watching; an error listener stays so that a late error is not an uncaught one. */
  release() {
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onClose);
    this.input.off('error', this.onError);
    this.input.on('error', () => {});
  }
}
