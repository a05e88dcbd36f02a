// Locks left by killed runs, and locks of runs that are still going. restic 0.14 has no
// --retry-lock: Restic removes stale locks once (`restic unlock`, never --remove-all) and
// tries once more; a live lock must survive that and surface as BACKUP_LOCKED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { makeTestRepo, randomStream, RESTIC_BINARY, stallingStream } from './restic-test-kit';
import type { TestRepo } from './restic-test-kit';
import { resticEnv } from './restic-process';
import { errorMessages } from '../../../shared/errors';

// One repository for the three, in order (each restic command costs ~0.5 s of scrypt).
let repo: TestRepo;
beforeAll(async () => void (repo = await makeTestRepo()));
afterAll(async () => {
  for (const { child } of repo.children) if (child.exitCode === null) child.kill('SIGKILL');
  await repo.cleanup();
});

/**
 * The repository's locks. restic's local backend writes each file under `<id>-tmp-<n>` and then
 * renames it, so a look at the wrong moment sees the temporary name: not a lock yet.
 */
const locks = async (r: TestRepo) =>
  (await readdir(path.join(r.repository, 'locks'))).filter((n) => /^[0-9a-f]{64}$/.test(n));

async function until(what: () => Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const retention = {
  host: 'dev-1',
  path: '/notes.tar',
  keepDaily: 7,
  keepWeekly: 4,
  keepMonthly: 6,
  prune: false,
};
const backup = { filename: 'notes.tar', host: 'dev-1', tags: ['hearth'] };

describe('Restic and repository locks', () => {
  it('never removes the lock of a backup that is still running', async () => {
    const input = stallingStream(64 * 1024);
    const running = repo.restic.backupStream(input.stream, backup);
    try {
      await until(async () => (await locks(repo)).length === 1);
      const [live] = await locks(repo);

      await expect(repo.restic.forget(retention)).rejects.toMatchObject({
        code: 'BACKUP_LOCKED',
        message: errorMessages.BACKUP_LOCKED,
      });
      expect(await locks(repo)).toEqual([live]);
    } finally {
      // Whatever failed above, the backup ends and takes its lock away: the next tests share
      // this repository.
      input.end();
    }
    await expect(running).resolves.toMatchObject({ totalBytes: 64 * 1024 });
    expect(await repo.restic.snapshots()).toHaveLength(1);
  }, 20_000);

  it('clears the lock a killed backup left and then forgets', async () => {
    const input = stallingStream(64 * 1024);
    const before = repo.children.length;
    const running = repo.restic.backupStream(input.stream, backup);
    await until(async () => (await locks(repo)).length === 1);
    const child = repo.children[before]!.child;
    child.kill('SIGKILL'); // no chance to remove its lock
    await expect(running).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    expect(await locks(repo)).toHaveLength(1);

    await expect(repo.restic.forget(retention)).resolves.toEqual({ removed: [] });
    expect(await locks(repo)).toEqual([]);
    expect(repo.children.slice(before).map((c) => c.args[0])).toEqual([
      'backup',
      'forget',
      'unlock',
      'forget',
    ]);
  }, 20_000);

  it('clears a stale exclusive lock (a killed check) before a backup reads any input', async () => {
    // (The first test left a 64 KiB snapshot for the check to read.)
    // A check held at 1 KiB/s takes the exclusive lock and keeps it while it reads the data.
    const check = spawn(RESTIC_BINARY, ['check', '--read-data', '--limit-download', '1'], {
      env: resticEnv({
        binary: RESTIC_BINARY,
        repository: repo.repository,
        password: repo.children[0]!.env.RESTIC_PASSWORD as string,
        cacheDir: path.join(repo.dir, 'cache'),
      }),
      stdio: 'ignore',
    });
    try {
      await until(async () => (await locks(repo)).length === 1);
    } finally {
      check.kill('SIGKILL');
    }
    await new Promise((r) => check.once('close', r));
    expect(await locks(repo)).toHaveLength(1);

    const { stream, data } = randomStream(256 * 1024);
    const before = repo.children.length;
    const result = await repo.restic.backupStream(stream, backup);
    expect(result.totalBytes).toBe(data.length);
    expect(await locks(repo)).toEqual([]);
    // The first try failed on the lock without reading the input; the second one got all of it.
    expect(repo.children.slice(before, before + 3).map((c) => c.args[0])).toEqual([
      'backup',
      'unlock',
      'backup',
    ]);
  }, 20_000);
});
