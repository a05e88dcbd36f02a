import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LAPTOP_RESTIC_DEB, checkDeb, ensureLaptopRestic, laptopResticPath } from './laptop-restic';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the laptop restic for tests', () => {
  it('is the release line the installers bundle', async () => {
    const { RESTIC_VERSION } = await import('./fetch-restic');
    expect(RESTIC_VERSION.split('.').slice(0, 2)).toEqual(
      LAPTOP_RESTIC_DEB.version.split('.').slice(0, 2),
    );
  });

  it('refuses a package whose sha256 is not the pinned one', () => {
    const bytes = Buffer.from('not restic');
    expect(() => checkDeb(bytes)).toThrow(/not the pinned .*: refused/);
    const sum = createHash('sha256').update(bytes).digest('hex');
    expect(() => checkDeb(bytes, sum)).not.toThrow();
  });

  it('is fetched once: a binary already in the cache is used as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-restic-cache-'));
    dirs.push(dir);
    const path = laptopResticPath(dir);
    expect(path).toBe(join(dir, LAPTOP_RESTIC_DEB.version, 'restic'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '#!/bin/sh\n', { mode: 0o755 });
    await expect(ensureLaptopRestic(path)).resolves.toBe(path);
  });
});
