// The real restic against temp repositories. Every restic command costs about half a second
// (restic derives the key from the password with scrypt each time), so one repository is
// shared by the tests that only add to it, in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { errorMessages } from '../../../shared/errors';
import { makeTestRepo, randomStream, TEST_PASSWORD } from './restic-test-kit';
import type { TestRepo } from './restic-test-kit';
import {
  BACKUP_FORMAT,
  imageMember,
  snapshotFile,
  snapshotPath,
  SPEC_FILE,
  volumeMember,
} from './backup-format';
import { manifestMismatches, packBackup, unpackBackup } from './backup-tar';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A writable that takes 16 KiB at a time and answers slowly, to make backpressure matter. */
function slowSink(): { sink: Writable; received: () => Buffer; maxBuffered: () => number } {
  const parts: Buffer[] = [];
  let maxBuffered = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      maxBuffered = Math.max(maxBuffered, sink.writableLength);
      setImmediate(cb);
    },
  });
  return { sink, received: () => Buffer.concat(parts), maxBuffered: () => maxBuffered };
}

// One repository for the whole file; the describes run in order and each counts on what the
// ones before it left (only the first backup test's list is exact from an empty repository).
let repo: TestRepo;
beforeAll(async () => void (repo = await makeTestRepo()));
afterAll(() => repo.cleanup());

describe('Restic opening a repository', () => {
  it('opens with the right password and says which failure is which otherwise', async () => {
    await expect(repo.restic.openCheck()).resolves.toBeUndefined();
    await expect(repo.make({ password: 'not-the-password' }).openCheck()).rejects.toMatchObject({
      code: 'BACKUP_WRONG_PASSWORD',
      message: errorMessages.BACKUP_WRONG_PASSWORD,
    });
    const nowhere = repo.make({ repository: `${repo.dir}/nothing-here` });
    await expect(nowhere.openCheck()).rejects.toMatchObject({
      code: 'BACKUP_NO_REPOSITORY',
      message: errorMessages.BACKUP_NO_REPOSITORY,
    });
    await expect(repo.restic.init()).rejects.toMatchObject({ code: 'BACKUP_FOLDER_NOT_EMPTY' });
  }, 15_000);

  it('never put the password or the repository in argv, only in the child env', () => {
    expect(repo.children.length).toBeGreaterThanOrEqual(4);
    for (const { args, env } of repo.children) {
      expect(args.join(' ')).not.toContain(TEST_PASSWORD);
      expect(args.join(' ')).not.toContain(repo.dir);
      expect(env.RESTIC_PASSWORD).toBeTruthy();
      expect(env.RESTIC_REPOSITORY).toBeTruthy();
      expect(env.RESTIC_PROGRESS_FPS).toBe('2');
      expect(env.RESTIC_CACHE_DIR).toBe(`${repo.dir}/cache`);
    }
  });
});

describe('Restic backing up, listing, dumping and forgetting', () => {
  const notes: string[] = [];
  let photos = '';
  let notesElsewhere = '';
  let bigData: Buffer;

  it('backs up a stream and lists it with its host, path, tags and time', async () => {
    const { stream, data } = randomStream(3 * 1024 * 1024);
    bigData = data;
    const progress: { bytesDone: number; secondsRemaining: number | null }[] = [];
    const time = new Date('2026-03-04T12:34:56Z');
    const result = await repo.restic.backupStream(stream, {
      filename: snapshotFile('notes'),
      host: 'dev-1',
      tags: ['hearth', 'app=notes', 'version=1.2.0'],
      time,
      onProgress: (p) => progress.push(p),
    });
    notes.push(result.snapshotId);
    expect(result.snapshotId).toMatch(/^[0-9a-f]{64}$/);
    expect(result.totalBytes).toBe(data.length);
    expect(result.bytesAdded).toBeGreaterThanOrEqual(data.length);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.secondsRemaining === null)).toBe(true);

    expect(await repo.restic.snapshots()).toEqual([
      {
        id: result.snapshotId,
        time: time.getTime(),
        host: 'dev-1',
        paths: [snapshotPath('notes')],
        tags: ['hearth', 'app=notes', 'version=1.2.0'],
      },
    ]);
  }, 15_000);

  it('dumps it back byte for byte at the pace of a slow reader', async () => {
    const { sink, received, maxBuffered } = slowSink();
    await repo.restic.dump(notes[0]!, snapshotPath('notes'), sink);
    expect(sha(received())).toBe(sha(bigData));
    expect(sink.writableFinished).toBe(true);
    // Backpressure: the sink never held much more than one chunk from restic at a time.
    expect(maxBuffered()).toBeLessThan(256 * 1024);
  }, 15_000);

  it('filters snapshots by host, path and all of the tags', async () => {
    const take = async (host: string, app: string, day: number) =>
      (
        await repo.restic.backupStream(randomStream(2048).stream, {
          filename: snapshotFile(app),
          host,
          tags: ['hearth', `app=${app}`],
          time: new Date(`2026-03-0${day}T10:00:00Z`),
        })
      ).snapshotId;
    // Side by side, as several devices' runs can be: backups take only a shared lock.
    const [day1, day2, photo, elsewhere] = await Promise.all([
      take('dev-1', 'notes', 1),
      take('dev-1', 'notes', 2),
      take('dev-1', 'photos', 1),
      take('dev-2', 'notes', 1),
    ]);
    notes.unshift(day1, day2);
    photos = photo;
    notesElsewhere = elsewhere;
    const ids = async (f: Parameters<TestRepo['restic']['snapshots']>[0]) =>
      (await repo.restic.snapshots(f)).map((s) => s.id).sort();

    const [mine, theirs, none] = await Promise.all([
      ids({ host: 'dev-1', path: snapshotPath('notes') }),
      ids({ host: 'dev-2', tags: ['hearth', 'app=notes'] }),
      ids({ tags: ['hearth', 'app=nothing'] }),
    ]);
    expect(mine).toEqual([...notes].sort());
    expect(theirs).toEqual([notesElsewhere]);
    expect(none).toEqual([]);
  }, 20_000);

  it('forgets by the retention policy within one host and path only, then by id', async () => {
    const { removed } = await repo.restic.forget({
      host: 'dev-1',
      path: snapshotPath('notes'),
      keepDaily: 2,
      keepWeekly: 0,
      keepMonthly: 0,
      prune: true,
    });
    expect(removed).toEqual([notes[0]]);
    await repo.restic.forgetIds([photos]);
    expect((await repo.restic.snapshots()).map((s) => s.id).sort()).toEqual(
      [notes[1], notes[2], notesElsewhere].sort(),
    );
    // Nothing of that host and path: nothing to remove, and no error.
    await expect(
      repo.restic.forget({
        host: 'dev-9',
        path: snapshotPath('notes'),
        keepDaily: 7,
        keepWeekly: 4,
        keepMonthly: 6,
        prune: false,
      }),
    ).resolves.toEqual({ removed: [] });
  }, 20_000);

  it('reports the repository size from the index', async () => {
    const stats = await repo.restic.stats();
    expect(stats.totalBytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(stats.snapshots).toBe(3);
  }, 10_000);
});

describe('a backup run’s tar through restic and back', () => {
  it('restores every member with the hash the manifest recorded', async () => {
    const volume = randomStream(2 * 1024 * 1024);
    const image = Buffer.from('an image');
    const tarStream = packBackup(
      [
        { name: volumeMember('data'), size: volume.data.length, stream: volume.stream },
        { name: imageMember(sha(image)), content: image },
        { name: SPEC_FILE, content: Buffer.from('{}') },
      ],
      (packed) => ({
        format: BACKUP_FORMAT,
        deviceId: 'dev-1',
        appId: 'notes',
        appName: 'Notes',
        appVersion: '1.0.0',
        takenAt: Date.now(),
        pausedMs: 10,
        volumes: [{ name: 'data', sizeBytes: volume.data.length, sha256: packed[0]!.sha256 }],
        image: { sha256: sha(image), sizeBytes: image.length },
      }),
    );
    const { snapshotId } = await repo.restic.backupStream(tarStream, {
      filename: snapshotFile('notes'),
      host: 'dev-1',
      tags: ['hearth'],
    });

    const restored = new PassThrough();
    const dumping = repo.restic.dump(snapshotId, snapshotPath('notes'), restored);
    const volumes: string[] = [];
    const [{ manifest, members }] = await Promise.all([
      unpackBackup(restored, async (entry) => {
        if (entry.name.startsWith('volumes/')) volumes.push(entry.name);
        // left unread: unpackBackup skips it, still hashing
      }),
      dumping,
    ]);
    expect(volumes).toEqual(['volumes/data.img']);
    expect(manifest.volumes[0]!.sha256).toBe(sha(volume.data));
    expect(manifestMismatches(manifest, members)).toEqual([]);
  }, 15_000);
});
