import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustedKeys } from './catalog-signature';
import type { TrustedKey } from './catalog-signature';
import { readCatalog } from './read-catalog';
import { sampleIndex } from './test-catalog';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const cli = (...args: string[]) =>
  run(
    join(root, 'node_modules/.bin/tsx'),
    [join(import.meta.dirname, 'sign-catalog-cli.ts'), ...args],
    {
      cwd: root,
    },
  );

describe('sign-catalog-cli', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-sign-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a private key, then signs exactly the index file it is given', async () => {
    const keyPath = join(dir, 'key.pem');
    const { stdout } = await cli('--generate-key', keyPath);
    const trusted = JSON.parse(stdout) as TrustedKey;
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    await expect(cli('--generate-key', keyPath)).rejects.toThrow(); // never overwrites a key

    const indexText = `${JSON.stringify(sampleIndex(), null, 4)}\n`;
    await writeFile(join(dir, 'index.json'), indexText);
    await cli('--key', keyPath, '--in', join(dir, 'index.json'), '--out', join(dir, 'out.json'));
    const out = await readFile(join(dir, 'out.json'), 'utf8');
    expect(readCatalog(out, loadTrustedKeys([trusted]))).toEqual(sampleIndex());
    expect(Buffer.from((JSON.parse(out) as { index: string }).index, 'base64').toString()).toBe(
      indexText,
    );

    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ ...sampleIndex(), apps: [{ id: 'X' }] }),
    );
    await expect(
      cli('--key', keyPath, '--in', join(dir, 'bad.json'), '--out', join(dir, 'bad-out.json')),
    ).rejects.toThrow(/breaks Hearth's rules/);
  }, 30_000);

  it('signs a catalog that ships only with a key the installers trust', async () => {
    const keyPath = join(dir, 'release-key.pem');
    const trusted = JSON.parse((await cli('--generate-key', keyPath)).stdout) as TrustedKey;
    const other = JSON.parse(
      (await cli('--generate-key', join(dir, 'other.pem'))).stdout,
    ) as TrustedKey;
    await writeFile(join(dir, 'index.json'), `${JSON.stringify(sampleIndex(), null, 2)}\n`);
    const pinned = async (keys: TrustedKey[]) => {
      const path = join(dir, `trusted-${keys.length}.json`);
      await writeFile(path, JSON.stringify({ format: 'hearth-trusted-keys/1', keys }));
      return path;
    };
    const sign = async (trustedPath: string) =>
      cli(
        '--key',
        keyPath,
        '--in',
        join(dir, 'index.json'),
        '--out',
        join(dir, 'default.json'),
        '--trusted',
        trustedPath,
      );

    await expect(sign(await pinned([other]))).rejects.toThrow(
      `The key ${trusted.keyId} is not in ${join(dir, 'trusted-1.json')}, so Hearth would refuse the catalog it signs.`,
    );
    await expect(stat(join(dir, 'default.json'))).rejects.toThrow(/ENOENT/);
    await sign(await pinned([other, trusted]));
    const out = await readFile(join(dir, 'default.json'), 'utf8');
    expect(readCatalog(out, loadTrustedKeys([trusted]))).toEqual(sampleIndex());
  }, 30_000);
});
