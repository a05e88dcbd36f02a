import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeKitFile } from './kit-file';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'kit-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('writeKitFile', () => {
  it('saves the page for the owner only, and leaves no temporary file', async () => {
    const path = join(dir, 'kit.html');
    expect(await writeKitFile(path, '<p>secret</p>')).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('<p>secret</p>');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['kit.html']);
  });

  it('says in a sentence when the folder cannot take it', async () => {
    const error = await writeKitFile(join(dir, 'missing', 'kit.html'), 'x').catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'STORAGE_FAILED' });
    expect((error as Error).message).toContain('could not save the recovery kit');
  });
});
