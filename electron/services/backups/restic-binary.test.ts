import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findRestic } from './restic-binary';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-find-restic-'));
  for (const sub of ['bundled', 'a', 'b', 'plain']) await mkdir(path.join(dir, sub));
  for (const [sub, mode] of [
    ['bundled', 0o755],
    ['b', 0o755],
    ['plain', 0o644],
  ] as const) {
    await writeFile(path.join(dir, sub, 'restic'), '#!/bin/sh\n');
    await chmod(path.join(dir, sub, 'restic'), mode);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('findRestic', () => {
  it('prefers the bundled restic', async () => {
    const bundled = path.join(dir, 'bundled', 'restic');
    await expect(findRestic({ bundled, pathEnv: path.join(dir, 'b') })).resolves.toBe(bundled);
  });

  it('else takes the first executable restic on PATH', async () => {
    const pathEnv = [
      '',
      'relative',
      path.join(dir, 'plain'),
      path.join(dir, 'a'),
      path.join(dir, 'b'),
    ].join(':');
    await expect(
      findRestic({ bundled: path.join(dir, 'gone', 'restic'), pathEnv, platform: 'linux' }),
    ).resolves.toBe(path.join(dir, 'b', 'restic'));
  });

  it('else says RESTIC_MISSING', async () => {
    await expect(findRestic({ pathEnv: path.join(dir, 'a') })).rejects.toMatchObject({
      code: 'RESTIC_MISSING',
    });
  });
});
