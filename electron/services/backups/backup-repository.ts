// The repository on this computer: made once with a generated password, opened again from a
// recovery kit on a new computer. The password goes into the key vault before restic ever
// sees it (a repository whose password was lost would be a locked box nobody can open), and
// the owner must confirm they kept the kit before the first backup runs.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HearthError } from '../../../shared/errors';
import type { BackupSetup, RecoveryKit } from '../../../shared/model';
import type { Clock } from '../clock';
import type { KeyVault } from '../keys/key-vault';
import type { BackupStateStore } from './backup-state';
import { buildRecoveryKit, generatePassword } from './recovery-kit';

export const PASSWORD_KEY = 'backup-password';
export const DEFAULT_FOLDER_NAME = 'Hearth Backups';

/** What the repository needs of restic. */
export interface RepositoryEngine {
  init(): Promise<void>;
  openCheck(): Promise<void>;
}

export interface BackupRepositoryDeps {
  state: BackupStateStore;
  vault: KeyVault;
  clock: Clock;
  documentsDir: string;
  engine: (repository: string, password: string) => Promise<RepositoryEngine>;
  /** The names of the apps backed up, for the kit's "what is in it". */
  appNames: () => Promise<string[]>;
  /** Where the kit says peer copies are (another device in the house), when there are any. */
  peerLocations?: () => Promise<{ label: string; repository: string }[]>;
  publish: (setup: BackupSetup) => void;
}

async function isEmptyOrMissing(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw folderError(error);
  }
}

function folderError(error: unknown): HearthError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new HearthError('BACKUP_DISK_FULL', undefined, { cause: error });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new HearthError(
      'BACKUP_FAILED',
      'Hearth may not write to that folder. Choose a folder of your own, or a drive that is not read-only.',
      { cause: error },
    );
  if (error instanceof HearthError) return error;
  return new HearthError('BACKUP_FAILED', undefined, { cause: error });
}

export class BackupRepository {
  readonly #deps: BackupRepositoryDeps;

  constructor(deps: BackupRepositoryDeps) {
    this.#deps = deps;
  }

  get defaultPath(): string {
    return join(this.#deps.documentsDir, DEFAULT_FOLDER_NAME);
  }

  async setup(): Promise<BackupSetup> {
    const { repository } = await this.#deps.state.read();
    return { repository, defaultPath: this.defaultPath };
  }

  /** The repository's location and password, once the owner kept the kit. */
  async open(): Promise<{ repository: string; password: string }> {
    const { repository } = await this.#deps.state.read();
    if (!repository) throw new HearthError('BACKUPS_NOT_SET_UP');
    if (!repository.kitConfirmed) throw new HearthError('BACKUP_KIT_NOT_KEPT');
    return { repository: repository.path, password: await this.password() };
  }

  async password(): Promise<string> {
    const secret = await this.#deps.vault.read(PASSWORD_KEY);
    if (!secret) throw new HearthError('BACKUPS_NOT_SET_UP');
    return secret.toString('utf8');
  }

  async create(path: string): Promise<{ setup: BackupSetup; kit: RecoveryKit }> {
    const current = await this.#deps.state.read();
    if (current.repository?.kitConfirmed)
      throw new HearthError(
        'BACKUP_FAILED',
        'Backups are already set up. Hearth keeps using the folder it has.',
      );
    if (!(await isEmptyOrMissing(path))) throw new HearthError('BACKUP_FOLDER_NOT_EMPTY');
    await mkdir(path, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
      throw folderError(e);
    });
    const password = generatePassword();
    await this.#deps.vault.write(PASSWORD_KEY, Buffer.from(password, 'utf8'));
    await (await this.#deps.engine(path, password)).init();
    const createdAt = this.#deps.clock.now();
    const doc = await this.#deps.state.update((d) => {
      d.repository = { path, kitConfirmed: false, createdAt };
    });
    const setup = { repository: doc.repository, defaultPath: this.defaultPath };
    this.#deps.publish(setup);
    return { setup, kit: await this.kit() };
  }

  /** A new computer: the folder and password from the recovery kit. */
  async openExisting(path: string, password: string): Promise<BackupSetup> {
    await (await this.#deps.engine(path, password)).openCheck();
    await this.#deps.vault.write(PASSWORD_KEY, Buffer.from(password, 'utf8'));
    const createdAt = this.#deps.clock.now();
    // The owner typed the password from their kit: they have it.
    const doc = await this.#deps.state.update((d) => {
      d.repository = { path, kitConfirmed: true, createdAt };
    });
    const setup = { repository: doc.repository, defaultPath: this.defaultPath };
    this.#deps.publish(setup);
    return setup;
  }

  async kit(): Promise<RecoveryKit> {
    const { repository } = await this.#deps.state.read();
    if (!repository) throw new HearthError('BACKUPS_NOT_SET_UP');
    const peers = (await this.#deps.peerLocations?.()) ?? [];
    return buildRecoveryKit({
      password: await this.password(),
      locations: [{ label: 'A folder on your computer', repository: repository.path }, ...peers],
      createdAt: this.#deps.clock.now(),
      appNames: await this.#deps.appNames(),
    });
  }

  async confirmKit(): Promise<BackupSetup> {
    const doc = await this.#deps.state.update((d) => {
      if (!d.repository) throw new HearthError('BACKUPS_NOT_SET_UP');
      d.repository.kitConfirmed = true;
    });
    const setup = { repository: doc.repository, defaultPath: this.defaultPath };
    this.#deps.publish(setup);
    return setup;
  }
}
