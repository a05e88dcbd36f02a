import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorMessages } from '../../../shared/errors';
import { bundledToolPath, findTool } from './bundled-tool';

let dir: string;
/** An installed Hearth's resources folder, and a folder on the owner's PATH. */
let resources: string;
let onPath: string;

async function executable(file: string, mode = 0o755) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, mode);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-bundled-tool-'));
  resources = path.join(dir, 'resources');
  onPath = path.join(dir, 'usr-bin');
  await executable(bundledToolPath(resources, 'restic', 'linux'));
  await executable(path.join(onPath, 'restic'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const restic = { tool: 'restic', missing: 'RESTIC_MISSING', platform: 'linux' } as const;

describe('findTool', () => {
  it('runs the copy the installer put in resources/bin, even with another on PATH', async () => {
    const bundled = bundledToolPath(resources, 'restic', 'linux');
    expect(bundled).toBe(path.join(resources, 'bin', 'restic'));
    await expect(findTool({ ...restic, bundled, pathEnv: onPath })).resolves.toBe(bundled);
  });

  it('falls back to the owner’s copy on PATH when the bundled one is gone or not runnable', async () => {
    const damaged = path.join(dir, 'damaged');
    await executable(bundledToolPath(damaged, 'restic', 'linux'), 0o644);
    for (const bundled of [
      bundledToolPath(path.join(dir, 'unpacked'), 'restic', 'linux'),
      bundledToolPath(damaged, 'restic', 'linux'),
    ])
      await expect(
        findTool({ ...restic, bundled, pathEnv: ['', 'relative', onPath].join(':') }),
      ).resolves.toBe(path.join(onPath, 'restic'));
  });

  it('says in the tool’s own sentence that neither exists', async () => {
    await expect(
      findTool({ ...restic, bundled: path.join(dir, 'nowhere', 'restic'), pathEnv: dir }),
    ).rejects.toMatchObject({ code: 'RESTIC_MISSING', message: errorMessages.RESTIC_MISSING });
  });

  it('looks for restic.exe on Windows, in PATH entries split by semicolons', async () => {
    const winPath = path.join(dir, 'win');
    await executable(path.join(winPath, 'restic.exe'), 0o644);
    expect(bundledToolPath(resources, 'restic', 'win32')).toBe(
      path.join(resources, 'bin', 'restic.exe'),
    );
    await expect(
      findTool({ ...restic, platform: 'win32', pathEnv: `${onPath};${winPath}` }),
    ).resolves.toBe(path.join(winPath, 'restic.exe'));
  });
});
