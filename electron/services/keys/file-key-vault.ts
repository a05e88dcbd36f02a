// The vault for plain Node (tests, browser mode): secrets as 0600 files in a 0700 folder.
// Protected by file permissions only, hence protection 'file'.
import type { KeyVault } from './key-vault';
import { PrivateFiles } from './private-files';

export class FileKeyVault implements KeyVault {
  readonly protection = 'file' as const;
  readonly #files: PrivateFiles;

  constructor(dir: string) {
    this.#files = new PrivateFiles(dir);
  }

  read(name: string): Promise<Buffer | null> {
    return this.#files.read(name);
  }

  write(name: string, secret: Buffer): Promise<void> {
    return this.#files.write(name, secret);
  }
}
