import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../shared/errors';
import { ArtifactCache } from './artifact-cache';
import { downloadArtifact, partialPath } from './artifact-download';
import { sha256Of, startTestServer } from './test-catalog';
import type { TestServer } from './test-catalog';

const MISMATCH =
  'The download of Counter did not match what the catalog promised, so Hearth threw it away. Nothing was installed.';

describe('artifact download', () => {
  let dir: string;
  let server: TestServer;
  const image = randomBytes(256 * 1024 + 17);
  const ref = (path: string, bytes: Uint8Array = image) => ({
    url: `${server.origin}${path}`,
    size: bytes.byteLength,
    sha256: sha256Of(bytes),
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-download-'));
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads, reports progress in bytes and renames into place only when verified', async () => {
    server.routes.set('/counter.elf', { body: image });
    const dest = join(dir, 'counter.elf');
    const progress: number[] = [];
    await downloadArtifact(ref('/counter.elf'), dest, {
      label: 'Counter',
      onProgress: (done, total) => {
        expect(total).toBe(image.length);
        progress.push(done);
      },
    });
    expect(await readFile(dest)).toEqual(image);
    expect(progress.at(-1)).toBe(image.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await readdir(dir)).toEqual(['counter.elf']);
  });

  it('resumes with a Range request after the connection is cut half-way', async () => {
    server.routes.set('/counter.elf', { body: image, mode: 'cut-once' });
    const dest = join(dir, 'counter.elf');
    await downloadArtifact(ref('/counter.elf'), dest, { label: 'Counter', retryDelayMs: 1 });
    expect(await readFile(dest)).toEqual(image);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.range).toBeUndefined();
    expect(server.requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('starts over when the server ignores Range', async () => {
    server.routes.set('/counter.elf', { body: image, mode: 'ignore-range' });
    const dest = join(dir, 'counter.elf');
    // A partial file left by an earlier, cut attempt.
    await writeFile(partialPath(dest), image.subarray(0, 1000));
    await downloadArtifact(ref('/counter.elf'), dest, { label: 'Counter' });
    expect(server.requests[0]!.range).toBe('bytes=1000-');
    expect(await readFile(dest)).toEqual(image);
  });

  it('cancels through an AbortSignal, keeps the partial file and resumes it later', async () => {
    server.routes.set('/counter.elf', { body: image, mode: 'stall' });
    const dest = join(dir, 'counter.elf');
    const controller = new AbortController();
    const running = downloadArtifact(ref('/counter.elf'), dest, {
      label: 'Counter',
      signal: controller.signal,
      onProgress: (done) => {
        if (done > 0) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(stat(dest)).rejects.toThrow();
    const kept = (await stat(partialPath(dest))).size;
    expect(kept).toBeGreaterThan(0);

    server.routes.set('/counter.elf', { body: image });
    await downloadArtifact(ref('/counter.elf'), dest, { label: 'Counter' });
    expect(server.requests.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(await readFile(dest)).toEqual(image);
  });

  it('throws away bytes that do not match the promised sha256, leaving nothing behind', async () => {
    const other = Buffer.from(image);
    other[1234] = other[1234]! ^ 0xff; // same size, different bytes
    server.routes.set('/counter.elf', { body: other });
    const dest = join(dir, 'counter.elf');
    const error = await downloadArtifact(ref('/counter.elf'), dest, { label: 'Counter' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).message).toBe(MISMATCH);
    expect(await readdir(dir)).toEqual([]);
  });

  it('starts afresh once when bytes left by an earlier run do not match', async () => {
    server.routes.set('/counter.elf', { body: image });
    const dest = join(dir, 'counter.elf');
    await writeFile(partialPath(dest), Buffer.alloc(1000, 0x55)); // not the image's start
    await downloadArtifact(ref('/counter.elf'), dest, { label: 'Counter' });
    expect(server.requests.map((r) => r.range)).toEqual(['bytes=1000-', undefined]);
    expect(await readFile(dest)).toEqual(image);
  });

  it('refuses a server that sends more bytes than promised', async () => {
    server.routes.set('/counter.elf', { body: Buffer.concat([image, Buffer.from('extra')]) });
    const dest = join(dir, 'counter.elf');
    await expect(downloadArtifact(ref('/counter.elf'), dest, { label: 'Counter' })).rejects.toThrow(
      MISMATCH,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives up on a missing file without retrying, and refuses public plain http', async () => {
    const dest = join(dir, 'counter.elf');
    await expect(downloadArtifact(ref('/missing.elf'), dest, { label: 'Counter' })).rejects.toThrow(
      /could not download Counter/,
    );
    expect(server.requests).toHaveLength(1);
    await expect(
      downloadArtifact({ ...ref('/x'), url: 'http://example.com/x' }, dest, { label: 'Counter' }),
    ).rejects.toThrow(/home network/);
  });

  it('caches by sha256: a second install does not download again, but re-verifies', async () => {
    server.routes.set('/counter.elf', { body: image });
    const cache = new ArtifactCache(join(dir, 'cache'));
    const first = await cache.get(ref('/counter.elf'), { label: 'Counter' });
    expect(first).toEqual({ path: join(dir, 'cache', sha256Of(image)), fromCache: false });
    const progress: number[] = [];
    const second = await cache.get(ref('/counter.elf'), {
      label: 'Counter',
      onProgress: (done) => progress.push(done),
    });
    expect(second.fromCache).toBe(true);
    expect(progress).toEqual([image.length]);
    expect(server.requests).toHaveLength(1);

    // Damaged on disk: found out, thrown away, downloaded again.
    const damaged = Buffer.from(image);
    damaged[0] = damaged[0]! ^ 1;
    await writeFile(first.path, damaged);
    const third = await cache.get(ref('/counter.elf'), { label: 'Counter' });
    expect(third.fromCache).toBe(false);
    expect(await readFile(third.path)).toEqual(image);
    expect(server.requests).toHaveLength(2);
  });

  it('shares one download between two simultaneous installs of the same image', async () => {
    server.routes.set('/counter.elf', { body: image });
    const cache = new ArtifactCache(join(dir, 'cache'));
    const [a, b] = await Promise.all([
      cache.get(ref('/counter.elf'), { label: 'Counter' }),
      cache.get(ref('/counter.elf'), { label: 'Counter' }),
    ]);
    expect([a.fromCache, b.fromCache].sort()).toEqual([false, true]);
    expect(server.requests).toHaveLength(1);
  });

  it('never turns a catalog-supplied hash into a path outside the cache', () => {
    const cache = new ArtifactCache(dir);
    expect(() => cache.pathFor('../../etc/passwd')).toThrow(HearthError);
  });
});
