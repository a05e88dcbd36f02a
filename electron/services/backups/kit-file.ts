// Writes the recovery kit page where the owner chose (or, without a dialog, into their
// documents). Private to the owner (0600): it holds the backups' password.
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HearthError } from '../../../shared/errors';

export const KIT_FILE_NAME = 'Hearth recovery kit.html';

export async function writeKitFile(path: string, html: string): Promise<string> {
  const temp = join(dirname(path), `.${Date.now().toString(36)}.hearth-kit.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(html, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    return path;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new HearthError(
      code === 'ENOSPC' ? 'DISK_FULL' : 'STORAGE_FAILED',
      code === 'ENOSPC'
        ? 'The disk is full, so the recovery kit was not saved. Free some space and save it again.'
        : 'Hearth could not save the recovery kit there. Choose another folder and save it again.',
      { cause: error },
    );
  }
}
