// Failures that a real restic cannot be made to show on demand (a full disk, garbage output,
// a lock that never goes), from small scripts standing in for the binary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { errorMessages, HearthError } from '../../../shared/errors';
import { createLogger } from '../logger';
import { Restic } from './restic';
import { randomStream } from './restic-test-kit';

const PASSWORD = 'hunter2-secret-password';
let dir: string;
beforeAll(async () => void (dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-fake-restic-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A stand-in restic: records its first argument, then runs `body` (sh). */
async function fakeRestic(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\necho "$1" >> "${file}.calls"\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}
const calls = async (binary: string) =>
  (await readFile(`${binary}.calls`, 'utf8')).trim().split('\n');

function make(binary: string, logFile?: string) {
  return new Restic({
    binary,
    repository: 'sftp:owner:s3cr3t@nas.local:/backups',
    password: PASSWORD,
    logger: logFile ? createLogger({ destination: logFile, level: 'debug' }) : undefined,
  });
}

const backup = { filename: 'notes.tar', host: 'dev-1', tags: ['hearth'] };

describe('Restic failures', () => {
  it('says RESTIC_MISSING when the binary is not there', async () => {
    const restic = make(path.join(dir, 'no-such-restic'));
    await expect(restic.snapshots()).rejects.toMatchObject({ code: 'RESTIC_MISSING' });
    await expect(restic.backupStream(randomStream(1024).stream, backup)).rejects.toMatchObject({
      code: 'RESTIC_MISSING',
    });
    const output = new PassThrough();
    const outputError = new Promise((resolve) => output.once('error', resolve));
    await expect(restic.dump('latest', '/notes.tar', output)).rejects.toMatchObject({
      code: 'RESTIC_MISSING',
    });
    // The consumer of `output` hears of the failure too (as with stream.pipeline).
    await expect(outputError).resolves.toMatchObject({ code: 'RESTIC_MISSING' });
  });

  it('says BACKUP_DISK_FULL, logs restic’s words without the password, shows neither', async () => {
    const binary = await fakeRestic(
      'full',
      `echo "Fatal: unable to save snapshot: write /x/$RESTIC_PASSWORD: no space left on device" >&2; exit 1`,
    );
    const logFile = path.join(dir, 'full.log');
    const error = await make(binary, logFile)
      .backupStream(randomStream(1024).stream, backup)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'BACKUP_DISK_FULL',
      message: errorMessages.BACKUP_DISK_FULL,
    });
    const log = await readFile(logFile, 'utf8');
    expect(log).toContain('no space left on device');
    expect(log).toContain('[redacted]');
    expect(log).not.toContain(PASSWORD);
  });

  it('takes output it cannot read as a failed run, not a crash', async () => {
    const garbage = await fakeRestic('garbage', `echo '[{"id":"not-an-id","time":"soon"}]'`);
    await expect(make(garbage).snapshots()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    const notJson = await fakeRestic('not-json', `echo 'hello'`);
    await expect(make(notJson).snapshots()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    await expect(make(notJson).stats()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    await expect(make(notJson).openCheck()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
  });

  it('unlocks stale locks once and retries once, then says BACKUP_LOCKED', async () => {
    const binary = await fakeRestic(
      'locked',
      `[ "$1" = unlock ] && exit 0
echo "unable to create lock in backend: repository is already locked by PID 1 on nas" >&2; exit 1`,
    );
    const restic = make(binary);
    await expect(
      restic.forget({
        host: 'dev-1',
        path: '/notes.tar',
        keepDaily: 7,
        keepWeekly: 4,
        keepMonthly: 6,
        prune: true,
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_LOCKED' });
    expect(await calls(binary)).toEqual(['forget', 'unlock', 'forget']);
    await expect(restic.backupStream(randomStream(1024).stream, backup)).rejects.toMatchObject({
      code: 'BACKUP_LOCKED',
    });
    expect((await calls(binary)).slice(3)).toEqual(['backup', 'unlock', 'backup']);
  });

  it('maps restic’s other words to the owner’s sentences', async () => {
    const wrong = await fakeRestic(
      'wrong',
      `echo "Fatal: wrong password or no key found" >&2; exit 1`,
    );
    await expect(make(wrong).check({ readData: 'none' })).rejects.toMatchObject({
      code: 'BACKUP_WRONG_PASSWORD',
    });
    const other = await fakeRestic('other', `echo "Fatal: something new went wrong" >&2; exit 1`);
    await expect(make(other).forgetIds(['0123abcd'])).rejects.toMatchObject({
      code: 'BACKUP_FAILED',
      message: errorMessages.BACKUP_FAILED,
    });
  });

  it('kills a restic that ignores SIGINT, and never gives it an end of its input', async () => {
    // A stand-in that prints restic's first status line, ignores SIGINT, and notes an EOF.
    const file = path.join(dir, 'stubborn');
    await writeFile(
      file,
      `#!${process.execPath}
process.on('SIGINT', () => {});
console.log('{"message_type":"status","percent_done":0}');
process.stdin.on('data', () => {});
process.stdin.on('end', () => require('node:fs').writeFileSync(${JSON.stringify(`${file}.eof`)}, 'eof'));
setInterval(() => {}, 1000);
`,
    );
    await chmod(file, 0o755);
    const restic = new Restic({
      binary: file,
      repository: '/r',
      password: PASSWORD,
      stopGraceMs: 300,
    });
    const lost = new HearthError('CONNECTION_LOST');
    let sent = false;
    const input = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(Buffer.alloc(64 * 1024));
        setTimeout(() => this.destroy(lost), 50);
      },
    });
    const started = Date.now();
    await expect(restic.backupStream(input, backup)).rejects.toBe(lost);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await expect(readFile(`${file}.eof`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports progress with the time left when the size is known', async () => {
    const file = path.join(dir, 'progress');
    const id = 'ab'.repeat(32);
    await writeFile(
      file,
      `#!${process.execPath}
const say = (o) => console.log(JSON.stringify(o));
say({ message_type: 'status', percent_done: 0 });
let n = 0;
process.stdin.on('data', (c) => (n += c.length));
process.stdin.on('end', () => {
  setTimeout(() => {
    say({ message_type: 'status', percent_done: 0, bytes_done: n, seconds_remaining: 1e18 });
    say({ message_type: 'summary', snapshot_id: ${JSON.stringify(id)}, data_added: 10, total_bytes_processed: n });
  }, 100);
});
`,
    );
    await chmod(file, 0o755);
    const restic = new Restic({ binary: file, repository: '/r', password: PASSWORD });
    const progress: { bytesDone: number; secondsRemaining: number | null }[] = [];
    const result = await restic.backupStream(randomStream(100_000).stream, {
      ...backup,
      expectedBytes: 400_000,
      onProgress: (p) => progress.push(p),
    });
    expect(result).toEqual({ snapshotId: id, bytesAdded: 10, totalBytes: 100_000 });
    expect(progress[0]).toEqual({ bytesDone: 0, secondsRemaining: null });
    // restic's own estimate for stdin is nonsense (1e18 s); Hearth's comes from the rate.
    const last = progress.at(-1)!;
    expect(last.bytesDone).toBe(100_000);
    expect(last.secondsRemaining).toBeGreaterThanOrEqual(0);
    expect(last.secondsRemaining).toBeLessThan(60);
  });

  it('asks restic for the full id of a new snapshot in a repository that is not a folder', async () => {
    const full = `abcd1234${'0'.repeat(56)}`;
    const binary = await fakeRestic(
      'short-id',
      `if [ "$1" = snapshots ]; then
  echo '[{"id":"${full}","time":"2026-01-01T00:00:00Z","hostname":"dev-1","paths":["/notes.tar"],"tags":null}]'
  exit 0
fi
echo '{"message_type":"status","percent_done":0}'
cat > /dev/null
echo '{"message_type":"summary","snapshot_id":"abcd1234","data_added":1,"total_bytes_processed":16}'`,
    );
    const result = await make(binary).backupStream(randomStream(16).stream, backup);
    expect(result.snapshotId).toBe(full);
    expect(await calls(binary)).toEqual(['backup', 'snapshots']);
  });

  it('refuses a tag that restic would split in two', async () => {
    const restic = make(path.join(dir, 'unused'));
    await expect(
      restic.backupStream(randomStream(16).stream, { ...backup, tags: ['a,b'] }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
