import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessages } from '../../../shared/errors';
import { makeTestRepo, randomStream } from './restic-test-kit';
import type { TestRepo } from './restic-test-kit';

/** Every pack file under data/, largest first. */
async function packs(repository: string): Promise<string[]> {
  const dataDir = path.join(repository, 'data');
  const files: { file: string; size: number }[] = [];
  for (const sub of await readdir(dataDir))
    for (const name of await readdir(path.join(dataDir, sub))) {
      const file = path.join(dataDir, sub, name);
      files.push({ file, size: (await stat(file)).size });
    }
  return files.sort((a, b) => b.size - a.size).map((f) => f.file);
}

describe('Restic.check', () => {
  let repo: TestRepo;
  beforeAll(async () => {
    repo = await makeTestRepo();
    await repo.restic.backupStream(randomStream(1024 * 1024).stream, {
      filename: 'notes.tar',
      host: 'dev-1',
      tags: [],
    });
  }, 15_000);
  afterAll(() => repo.cleanup());

  it('finds a whole repository whole', async () => {
    // check takes the exclusive lock, so these run one after the other.
    await expect(repo.restic.check({ readData: 'none' })).resolves.toEqual({ ok: true });
    await expect(repo.restic.check({ readData: 'full' })).resolves.toEqual({ ok: true });
  }, 10_000);

  it('finds a pack whose bytes were flipped on disk', async () => {
    const pack = (await packs(repo.repository))[0]!;
    const bytes = await readFile(pack);
    for (let i = 1000; i < 1100; i++) bytes[i] = bytes[i]! ^ 0xff;
    await chmod(pack, 0o600); // restic writes packs read-only
    await writeFile(pack, bytes);

    const damaged = { ok: false, sentence: errorMessages.BACKUP_DAMAGED };
    await expect(repo.restic.check({ readData: 'full' })).resolves.toEqual(damaged);
    await expect(repo.restic.check({ readData: 'subset', subset: '100%' })).resolves.toEqual(
      damaged,
    );
  }, 10_000);
});
