// The release's check of the pinned restic sums: real gpg, with keys made here standing in for
// restic's (its own signature of a release cannot be made in a test), and the key the repo
// carries checked against the fingerprint restic publishes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTIC_VERSION, resticAssets } from './fetch-restic';
import {
  checkPinnedSums,
  parseSha256Sums,
  RESTIC_RELEASE_KEY,
  verifySignature,
} from './verify-restic-sums';

/** The pinned assets as restic's SHA256SUMS lists them, with other files beside them. */
const pinnedList = (change: (file: string, sum: string) => string | null = (_f, s) => s) =>
  [
    `${'ab'.repeat(32)}  restic-${RESTIC_VERSION}.tar.gz`,
    ...Object.values(resticAssets).flatMap(({ file, sha256 }) => {
      const sum = change(file, sha256);
      return sum === null ? [] : [`${sum}  ${file}`];
    }),
    `${'cd'.repeat(32)}  restic_${RESTIC_VERSION}_freebsd_amd64.bz2`,
    '',
  ].join('\n');

describe('the pinned restic sums against the signed list', () => {
  it('pass when each is the signed one', () => {
    expect(() => checkPinnedSums(parseSha256Sums(pinnedList()))).not.toThrow();
  });

  it('fail, naming the file, when one differs or is missing', () => {
    const linux = resticAssets['linux-x64']!.file;
    const mac = resticAssets['darwin-arm64']!.file;
    const changed = pinnedList((file, sum) =>
      file === linux ? 'f'.repeat(64) : file === mac ? null : sum,
    );
    expect(() => checkPinnedSums(parseSha256Sums(changed))).toThrow(
      `${linux} (signed ${'f'.repeat(64)}, pinned ${resticAssets['linux-x64']!.sha256}); ${mac} (not listed).`,
    );
  });

  it('reads sha256sum’s binary-mode lines and ignores what is not a sum', () => {
    const sums = parseSha256Sums(`${'AB'.repeat(32)} *restic.zip\r\nnot a sum\n`);
    expect([...sums]).toEqual([['restic.zip', 'ab'.repeat(32)]]);
  });
});

// gpg is a Debian package the tests install (.ci/debian-packages.txt), and the release
// pipeline's check runs on Linux. Windows runners have only Git's MSYS gpg, which reads
// Windows paths its own way.
const hasGpg = process.platform !== 'win32' && spawnSync('gpg', ['--version']).status === 0;

describe.runIf(hasGpg)('the signature of SHA256SUMS', { timeout: 60_000 }, () => {
  let dir: string;
  let home: string;
  const keys: Record<'restic' | 'other', { fingerprint: string; keyFile: string }> = {
    restic: { fingerprint: '', keyFile: '' },
    other: { fingerprint: '', keyFile: '' },
  };
  const gpg = (...args: string[]) =>
    execFileSync('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { stdio: 'pipe' });

  /** A detached, armored signature of `text` by one of the keys, as restic publishes it. */
  function signed(text: string, by: keyof typeof keys, name = 'SHA256SUMS') {
    const data = join(dir, name);
    writeFileSync(data, text);
    gpg('--yes', '--armor', '--local-user', keys[by].fingerprint, '--detach-sign', data);
    return { data, signature: `${data}.asc` };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-sums-'));
    home = join(dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    for (const name of ['restic', 'other'] as const) {
      gpg('--passphrase', '', '--quick-gen-key', `${name} <${name}@hearth.test>`, 'ed25519');
      const listed = gpg('--with-colons', '--list-keys', `${name}@hearth.test`).toString();
      keys[name].fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed)![1]!;
      keys[name].keyFile = join(dir, `${name}.asc`);
      writeFileSync(keys[name].keyFile, gpg('--armor', '--export', keys[name].fingerprint));
    }
  });

  afterAll(() => {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is accepted when it is good and by the pinned key', async () => {
    await expect(
      verifySignature({ ...signed(pinnedList(), 'restic'), ...keys.restic }),
    ).resolves.toBe(undefined);
  });

  it('is refused for a list changed after signing', async () => {
    const files = signed(pinnedList(), 'restic');
    writeFileSync(
      files.data,
      pinnedList((_f, s) => s.replace(/^./, '0')),
    );
    await expect(verifySignature({ ...files, ...keys.restic })).rejects.toThrow(
      /is not a good signature of .*SHA256SUMS by the key/,
    );
  });

  it('is refused when another key made it, even one the key file also holds', async () => {
    const files = signed(pinnedList(), 'other');
    await expect(verifySignature({ ...files, ...keys.restic })).rejects.toThrow(
      /is not a good signature/,
    );
    const both = join(dir, 'both.asc');
    writeFileSync(
      both,
      gpg('--armor', '--export', keys.restic.fingerprint, keys.other.fingerprint),
    );
    await expect(
      verifySignature({ ...files, keyFile: both, fingerprint: keys.restic.fingerprint }),
    ).rejects.toThrow(/not only the key/);
  });

  it('is refused when the key file is not the pinned key', async () => {
    const files = signed(pinnedList(), 'other');
    await expect(
      verifySignature({
        ...files,
        keyFile: keys.other.keyFile,
        fingerprint: keys.restic.fingerprint,
      }),
    ).rejects.toThrow(
      `holds ${keys.other.fingerprint}, not only the key ${keys.restic.fingerprint}`,
    );
  });

  it('is checked with the key the repo carries, which is the one restic’s docs publish', () => {
    // restic's doc/020_installation.rst, "Official Binaries": Key fingerprint = CF8F 18F2 8445
    // 7597 3F79  D4E1 91A6 868B D3F7 A907 (Alexander Neumann).
    expect(RESTIC_RELEASE_KEY.fingerprint).toBe('CF8F18F2844575973F79D4E191A6868BD3F7A907');
    const shown = gpg('--with-colons', '--show-keys', RESTIC_RELEASE_KEY.keyFile).toString();
    const primaries = [...shown.matchAll(/^pub:.*\nfpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]);
    expect(primaries).toEqual([RESTIC_RELEASE_KEY.fingerprint]);
    expect(shown).toContain('Alexander Neumann <alexander@bumpern.de>');
  });
});
