// "A killed run leaves no snapshot": restic writes a snapshot only after a clean end of its
// input, and Restic ends restic's stdin only when the input ended cleanly. These tests cut the
// input in each way a device connection can go, and look for a snapshot afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { HearthError } from '../../../shared/errors';
import { makeTestRepo } from './restic-test-kit';
import type { TestRepo } from './restic-test-kit';

/** 2 MiB in 64 KiB chunks over ~200 ms, then whatever `then` does instead of ending. */
function cutStream(then: (s: Readable) => void): Readable {
  let sent = 0;
  const stream: Readable = new Readable({
    read() {
      if (sent >= 32) return;
      sent++;
      setTimeout(() => {
        stream.push(randomBytes(64 * 1024));
        if (sent === 32) setTimeout(() => then(stream), 100);
      }, 5);
    },
  });
  return stream;
}

const options = { filename: 'notes.tar', host: 'dev-1', tags: ['hearth'] };

describe('a backup whose input does not end cleanly', () => {
  let repo: TestRepo;
  beforeAll(async () => void (repo = await makeTestRepo()));
  afterAll(() => repo.cleanup());

  // All six runs go side by side (backups share the lock), then the list must hold exactly
  // the one whose input ended cleanly.
  it('leaves a snapshot only for the run whose input ended cleanly', async () => {
    const lost = new HearthError('CONNECTION_LOST');
    const cancel = new AbortController();
    const cancelled = cutStream(() => cancel.abort());
    const early = new AbortController();
    early.abort();

    const gone = new Readable({ read() {} });
    setImmediate(() => gone.destroy(lost)); // long before restic has opened the repository

    const [control, failed, closed, aborted, abortedEarly, failedEarly] = await Promise.allSettled([
      // (control) the same kind of input, ending cleanly
      repo.restic.backupStream(
        cutStream((s) => s.push(null)),
        options,
      ),
      // the input fails: the device's connection was cut
      repo.restic.backupStream(
        cutStream((s) => s.destroy(lost)),
        options,
      ),
      // the input is closed without an end or an error
      repo.restic.backupStream(
        cutStream((s) => s.destroy()),
        options,
      ),
      // the owner cancels mid-stream
      repo.restic.backupStream(cancelled, { ...options, signal: cancel.signal }),
      // cancelled before restic even started
      repo.restic.backupStream(
        cutStream((s) => s.push(null)),
        { ...options, signal: early.signal },
      ),
      // the input fails while restic is still starting
      repo.restic.backupStream(gone, options),
    ]);

    expect(control.status).toBe('fulfilled');
    expect(failed).toEqual({ status: 'rejected', reason: lost });
    expect(closed).toMatchObject({ status: 'rejected', reason: { code: 'BACKUP_FAILED' } });
    expect(aborted).toMatchObject({ status: 'rejected', reason: { code: 'CANCELLED' } });
    expect(abortedEarly).toMatchObject({ status: 'rejected', reason: { code: 'CANCELLED' } });
    expect(failedEarly).toEqual({ status: 'rejected', reason: lost });
    expect(cancelled.destroyed).toBe(true);

    const snapshots = await repo.restic.snapshots();
    expect(snapshots.map((s) => s.id)).toEqual([
      (control as PromiseFulfilledResult<{ snapshotId: string }>).value.snapshotId,
    ]);
    // SIGINT lets each stopped restic remove its own lock before it exits.
    expect(await readdir(path.join(repo.repository, 'locks'))).toEqual([]);
  }, 15_000);
});
