import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupSetup } from '../../../shared/model';
import { FileKeyVault } from '../keys/file-key-vault';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { BackupRepository, PASSWORD_KEY } from './backup-repository';
import { BackupStateStore } from './backup-state';
import { Restic } from './restic';
import { RESTIC_BINARY } from './restic-test-kit';

let dir: string;
let vault: FileKeyVault;
let published: BackupSetup[];
const engine = (repository: string, password: string) =>
  Promise.resolve(
    new Restic({ binary: RESTIC_BINARY, repository, password, cacheDir: join(dir, 'cache') }),
  );

function repositoryIn(user: string) {
  vault = new FileKeyVault(join(dir, user, 'vault'));
  return new BackupRepository({
    state: new BackupStateStore(new AtomicJsonStore(join(dir, user, 'state'))),
    vault,
    clock: { now: () => 1_000 },
    documentsDir: join(dir, 'Documents'),
    engine,
    appNames: () => Promise.resolve(['Counter']),
    publish: (s) => published.push(s),
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-backup-repo-'));
  published = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the backup repository on this computer', { timeout: 60_000 }, () => {
  it('defaults to "Hearth Backups" in the documents, and refuses to run before the kit is kept', async () => {
    const repo = repositoryIn('a');
    expect((await repo.setup()).defaultPath).toBe(join(dir, 'Documents', 'Hearth Backups'));
    await expect(repo.open()).rejects.toMatchObject({ code: 'BACKUPS_NOT_SET_UP' });
    const { setup, kit } = await repo.create(join(dir, 'Documents', 'Hearth Backups'));
    expect(setup.repository).toMatchObject({ kitConfirmed: false });
    await expect(repo.open()).rejects.toMatchObject({ code: 'BACKUP_KIT_NOT_KEPT' });
    // The password went to the vault, and it is the one on the kit.
    expect((await vault.read(PASSWORD_KEY))?.toString()).toBe(kit.password);
    expect(kit.html).toContain(kit.password);
    expect(kit.locations[0]?.repository).toBe(join(dir, 'Documents', 'Hearth Backups'));
    await repo.confirmKit();
    expect(await repo.open()).toEqual({
      repository: join(dir, 'Documents', 'Hearth Backups'),
      password: kit.password,
    });
    expect(published.map((s) => s.repository?.kitConfirmed)).toEqual([false, true]);
  });

  it('will not mix backups into a folder that holds other files', async () => {
    const folder = join(dir, 'photos');
    await mkdir(folder);
    await writeFile(join(folder, 'holiday.jpg'), 'x');
    await expect(repositoryIn('a').create(folder)).rejects.toMatchObject({
      code: 'BACKUP_FOLDER_NOT_EMPTY',
    });
  });

  it('opens the same backups on a new computer with the kit’s password, and says so when it is wrong', async () => {
    const folder = join(dir, 'usb', 'Hearth Backups');
    const { kit } = await repositoryIn('old-laptop').create(folder);
    const fresh = repositoryIn('new-laptop');
    await expect(fresh.openExisting(folder, 'not-the-password')).rejects.toMatchObject({
      code: 'BACKUP_WRONG_PASSWORD',
    });
    await expect(fresh.openExisting(join(dir, 'empty'), kit.password)).rejects.toMatchObject({
      code: 'BACKUP_NO_REPOSITORY',
    });
    const setup = await fresh.openExisting(folder, kit.password);
    expect(setup.repository).toMatchObject({ path: folder, kitConfirmed: true });
    expect((await fresh.open()).password).toBe(kit.password);
  });
});
