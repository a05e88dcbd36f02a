import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { FileKeyVault } from './file-key-vault';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-vault-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = (path: string) => execFileSync('stat', ['-c', '%a', path]).toString().trim();

describe('FileKeyVault', () => {
  it('reads back what it wrote, and null for what it never wrote', async () => {
    const vault = new FileKeyVault(join(dir, 'keys'));
    expect(vault.protection).toBe('file');
    expect(await vault.read('install-key')).toBeNull();
    await vault.write('install-key', Buffer.from([0, 1, 2, 255]));
    expect(await new FileKeyVault(join(dir, 'keys')).read('install-key')).toEqual(
      Buffer.from([0, 1, 2, 255]),
    );
    await vault.write('install-key', Buffer.from('second'));
    expect((await vault.read('install-key'))?.toString()).toBe('second');
  });

  it('keeps the folder 0700 and each file 0600, with no temp files left', async () => {
    const keys = join(dir, 'keys');
    await mkdir(keys, { mode: 0o755 });
    await chmod(keys, 0o755);
    const vault = new FileKeyVault(keys);
    await vault.write('a', Buffer.from('1'));
    await vault.write('a', Buffer.from('2'));
    expect(modeOf(keys)).toBe('700');
    expect(modeOf(join(keys, 'a.key'))).toBe('600');
    expect(await readdir(keys)).toEqual(['a.key']);
  });

  it.each(['../escape', 'UPPER', '', 'a/b', 'a.key', `x${'y'.repeat(64)}`])(
    'refuses the name %j',
    async (name) => {
      const vault = new FileKeyVault(dir);
      await expect(vault.write(name, Buffer.from('x'))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(vault.read(name)).rejects.toBeInstanceOf(HearthError);
    },
  );

  it('says STORAGE_FAILED when the folder cannot be written', async () => {
    const blocked = join(dir, 'blocked');
    await mkdir(blocked);
    await chmod(blocked, 0o500);
    // root ignores permissions; only assert where they apply.
    if (process.getuid?.() === 0) return;
    await expect(
      new FileKeyVault(join(blocked, 'keys')).write('a', Buffer.from('x')),
    ).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });
});
