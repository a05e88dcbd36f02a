import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { ChosenImages } from './chosen-images';
import { multibootKernel, solo5Image } from './image-test-images';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-chosen-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ChosenImages', () => {
  it('reads, hashes and inspects the chosen file, and hands back a token instead of its path', async () => {
    const path = join(dir, 'notes.virtio');
    await writeFile(path, solo5Image('virtio', [{ name: 'storage', type: 'block' }]));
    const images = new ChosenImages();
    const chosen = await images.choose(path);
    expect(chosen).toMatchObject({
      fileName: 'notes.virtio',
      facts: { kind: 'solo5', abi: 'virtio', blocks: ['storage'] },
      targets: ['qemu-x86_64'],
      problem: null,
      suggested: { volumes: [{ name: 'storage', sizeMiB: 64 }], disk: 'virtio' },
    });
    expect(chosen.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(chosen.token).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(JSON.stringify(chosen)).not.toContain(dir);
    expect(images.get(chosen.token)).toMatchObject({ path, sha256: chosen.sha256 });
  });

  it('says in a sentence when the file is too large, without reading it', async () => {
    const path = join(dir, 'disk.img');
    await writeFile(path, '');
    await truncate(path, 600 * 1024 * 1024);
    const error = await new ChosenImages().choose(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).message).toMatch(
      /disk\.img is 600 MB; Hearth installs image files of up to 512 MB/,
    );
  });

  it('refuses what is not a file, and forgets tokens after a while', async () => {
    const images = new ChosenImages({ now: () => now, ttlMs: 1_000 });
    let now = 0;
    await expect(images.choose(dir)).rejects.toThrow(/not a file/);
    const path = join(dir, 'counter.elf');
    await writeFile(path, multibootKernel());
    const { token } = await images.choose(path);
    expect(images.get(token).fileName).toBe('counter.elf');
    now = 5_000;
    expect(() => images.get(token)).toThrow(/Choose it again/);
    expect(() => images.get('not-a-token-at-all')).toThrow(/Choose it again/);
  });

  it('answers garbage with what it is, so the form can say so', async () => {
    const path = join(dir, 'photo.jpg');
    await writeFile(path, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const chosen = await new ChosenImages().choose(path);
    expect(chosen.facts.kind).toBe('unknown');
    expect(chosen.targets).toEqual([]);
    expect(chosen.problem).toMatch(/does not recognise/);
  });
});
