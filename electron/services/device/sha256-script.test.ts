import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Function } from './sha256-script';

const dir = mkdtempSync(join(tmpdir(), 'hearth-sha256-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'volume.img');
const data = randomBytes(3 * 1024 * 1024 + 17);
writeFileSync(file, data);
const want = createHash('sha256').update(data).digest('hex');

function hashWith(path: string, target = file) {
  const r = spawnSync(
    '/bin/sh',
    ['-c', `${sha256Function}\nh=$(sha256_of "$1") || exit 1\necho "\${h%% *}"`, 'sh', target],
    {
      encoding: 'utf8',
      env: { PATH: path },
    },
  );
  return { status: r.status, out: r.stdout.trim() };
}
const hasOpenssl = spawnSync('/bin/sh', ['-c', 'command -v openssl']).status === 0;

describe('sha256_of on a device', () => {
  it.skipIf(!hasOpenssl)('hashes with openssl where the device has it', () => {
    expect(hashWith('/usr/bin:/bin')).toEqual({ status: 0, out: want });
  });

  it('hashes with sha256sum where it has no openssl', () => {
    const bin = join(dir, 'bin');
    rmSync(bin, { recursive: true, force: true });
    spawnSync('mkdir', [bin]);
    symlinkSync('/usr/bin/sha256sum', join(bin, 'sha256sum'));
    expect(spawnSync(`${bin}/sha256sum`, ['--version']).status).toBe(0);
    expect(hashWith(bin)).toEqual({ status: 0, out: want });
  });

  it('hashes with sha256sum where the openssl it has fails', () => {
    const bin = join(dir, 'broken-bin');
    rmSync(bin, { recursive: true, force: true });
    spawnSync('mkdir', [bin]);
    writeFileSync(
      join(bin, 'openssl'),
      '#!/bin/sh\necho "openssl: error while loading shared libraries" >&2\nexit 127\n',
      { mode: 0o755 },
    );
    symlinkSync('/usr/bin/sha256sum', join(bin, 'sha256sum'));
    expect(hashWith(bin)).toEqual({ status: 0, out: want });
  });

  it('fails on a file it cannot read, so no hash of nothing is ever compared', () => {
    expect(hashWith('/usr/bin:/bin', join(dir, 'missing.img')).status).not.toBe(0);
  });
});
