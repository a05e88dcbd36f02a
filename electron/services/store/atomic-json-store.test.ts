import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AtomicJsonStore } from './atomic-json-store';

const schema = z.object({ count: z.number() });
const fallback = () => ({ count: 0 });
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AtomicJsonStore', () => {
  it('gives the fallback when nothing was saved, and what was saved afterwards', async () => {
    const store = new AtomicJsonStore(dir);
    expect(await store.load('settings', schema, fallback)).toEqual({
      value: { count: 0 },
      source: 'default',
    });
    await store.save('settings', { count: 3 });
    expect(await new AtomicJsonStore(dir).load('settings', schema, fallback)).toEqual({
      value: { count: 3 },
      source: 'file',
    });
  });

  it('leaves no temp files and keeps the files private', async () => {
    const store = new AtomicJsonStore(dir);
    await store.save('settings', { count: 1 });
    await store.save('settings', { count: 2 });
    expect((await readdir(dir)).sort()).toEqual(['settings.json', 'settings.json.bak']);
    const mode = execFileSync('stat', ['-c', '%a', join(dir, 'settings.json')])
      .toString()
      .trim();
    expect(mode).toBe('600');
  });

  it('detects a torn file, sets it aside, and recovers the last good copy', async () => {
    const recovered: string[] = [];
    const store = new AtomicJsonStore(dir, {
      onRecovered: (_name, movedTo) => recovered.push(movedTo),
    });
    await store.save('settings', { count: 1 });
    await store.save('settings', { count: 2 });
    await truncate(join(dir, 'settings.json'), 20);
    const result = await store.load('settings', schema, fallback);
    expect(result).toEqual({ value: { count: 1 }, source: 'backup' });
    expect(recovered).toHaveLength(1);
    expect(await readFile(recovered[0]!, 'utf8')).toHaveLength(20);
    // The recovered value is written back as the main file.
    expect((await new AtomicJsonStore(dir).load('settings', schema, fallback)).source).toBe('file');
  });

  it('detects a file whose content no longer matches its checksum', async () => {
    const store = new AtomicJsonStore(dir);
    await store.save('settings', { count: 1 });
    await store.save('settings', { count: 2 });
    const path = join(dir, 'settings.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"count":2', '"count":9'));
    expect(await store.load('settings', schema, fallback)).toEqual({
      value: { count: 1 },
      source: 'backup',
    });
  });

  it('never makes a damaged main file the backup', async () => {
    const store = new AtomicJsonStore(dir);
    await store.save('settings', { count: 1 });
    await store.save('settings', { count: 2 });
    await writeFile(join(dir, 'settings.json'), 'garbage');
    await store.save('settings', { count: 3 });
    await writeFile(join(dir, 'settings.json'), 'garbage again');
    expect((await store.load('settings', schema, fallback)).value).toEqual({ count: 1 });
  });

  it('falls back to defaults when neither copy is usable', async () => {
    await writeFile(
      join(dir, 'settings.json'),
      '{"format":"hearth-store/1","sha256":"x","data":{}}',
    );
    expect(await new AtomicJsonStore(dir).load('settings', schema, fallback)).toEqual({
      value: { count: 0 },
      source: 'default',
    });
  });

  it('rejects data that fails the schema as damaged', async () => {
    const store = new AtomicJsonStore(dir);
    await store.save('settings', { count: 'many' });
    expect((await store.load('settings', schema, fallback)).source).toBe('default');
  });

  it('serializes concurrent saves so the last one wins', async () => {
    const store = new AtomicJsonStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save('settings', { count: i })));
    expect((await store.load('settings', schema, fallback)).value).toEqual({ count: 19 });
  });

  it('refuses names that could escape the folder', async () => {
    const store = new AtomicJsonStore(dir);
    await expect(store.save('../evil', {})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  // Needs a tiny filesystem to fill, and mounting one takes root (CI runs as root).
  it.runIf(process.getuid?.() === 0)(
    'says the disk is full, in words, and keeps the previous value',
    async () => {
      const mnt = join(dir, 'tiny');
      execFileSync('mkdir', [mnt]);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
      try {
        const store = new AtomicJsonStore(mnt);
        await store.save('settings', { count: 1 });
        await writeFile(join(mnt, 'filler'), Buffer.alloc(60 * 1024)).catch(() => undefined);
        const big = { count: 2, blob: 'x'.repeat(64 * 1024) };
        await expect(store.save('settings', big)).rejects.toMatchObject({
          code: 'DISK_FULL',
          message: expect.stringContaining('disk is full') as string,
        });
        expect((await store.load('settings', schema, fallback)).value).toEqual({ count: 1 });
        expect((await readdir(mnt)).filter((f) => f.includes('.tmp-'))).toEqual([]);
      } finally {
        execFileSync('umount', [mnt]);
      }
    },
  );
});
