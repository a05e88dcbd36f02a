// One file per name in a folder only the user can open (0700), each file 0600, replaced
// atomically (temp file, fsync, rename, fsync the folder) so a crash never leaves a torn
// secret. Shared by the file vault and the Electron safeStorage vault.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HearthError } from '../../../shared/errors';
import { KEY_NAME } from './key-vault';

function storageError(error: unknown): HearthError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new HearthError('DISK_FULL', undefined, { cause: error });
  return new HearthError('STORAGE_FAILED', undefined, { cause: error });
}

export class PrivateFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  path(name: string): string {
    if (!KEY_NAME.test(name))
      throw new HearthError('INVALID_INPUT', `"${name}" is not a valid key name.`);
    return join(this.#dir, `${name}.key`);
  }

  async read(name: string): Promise<Buffer | null> {
    const path = this.path(name);
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') return null;
      throw storageError(error);
    }
  }

  async write(name: string, bytes: Buffer): Promise<void> {
    const path = this.path(name);
    const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing folder's mode alone; make sure it is private.
      if (process.platform !== 'win32') await chmod(this.#dir, 0o700);
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      if (process.platform !== 'win32') {
        const dir = await open(this.#dir, 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      }
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error instanceof HearthError ? error : storageError(error);
    }
  }
}
