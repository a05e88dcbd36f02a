import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledToolPath } from '../electron/services/tools/bundled-tool';
import {
  checkSha256,
  RESTIC_VERSION,
  resticAsset,
  resticAssets,
  resticOutDir,
  resticUrl,
} from './fetch-restic';

describe('the pinned restic', () => {
  it('names each platform’s asset as restic’s releases do, with a full sha256', () => {
    const goNames = { linux: 'linux', darwin: 'darwin', win32: 'windows' } as const;
    const goArch = { x64: 'amd64', arm64: 'arm64' } as const;
    for (const [key, asset] of Object.entries(resticAssets)) {
      const [platform, arch] = key.split('-') as [keyof typeof goNames, keyof typeof goArch];
      const stem = `restic_${RESTIC_VERSION}_${goNames[platform]}_${goArch[arch]}`;
      expect(asset.file).toBe(`${stem}.${platform === 'win32' ? 'zip' : 'bz2'}`);
      expect(asset.entry).toBe(platform === 'win32' ? `${stem}.exe` : stem);
      expect(asset.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(resticUrl(resticAsset('linux', 'x64'))).toBe(
      `https://github.com/restic/restic/releases/download/v${RESTIC_VERSION}/restic_${RESTIC_VERSION}_linux_amd64.bz2`,
    );
  });

  it('refuses an archive that is not byte for byte the pinned one', () => {
    const bytes = Buffer.from('restic archive');
    const asset = {
      ...resticAsset('linux', 'x64'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    expect(() => checkSha256(bytes, asset)).not.toThrow();
    expect(() => checkSha256(Buffer.from('restic archivE'), asset)).toThrow(/not the pinned/);
    expect(() => resticAsset('freebsd', 'x64')).toThrow(/No restic is pinned for freebsd-x64/);
  });

  it('lands where electron-builder copies it from, under the name Hearth looks for', () => {
    const out = resticOutDir('/repo', 'win32', 'x64');
    expect(out).toBe(join('/repo', 'out', 'tools', 'restic', 'win32-x64'));
    // electron-builder copies the folder's contents to resources/bin.
    expect(bundledToolPath('/resources', 'restic', 'win32')).toBe(
      join('/resources', 'bin', 'restic.exe'),
    );
  });
});
