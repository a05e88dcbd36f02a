import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { HearthError } from '../../../shared/errors';
import { manifestMismatches, packBackup, unpackBackup } from './backup-tar';
import type { BackupMember, PackedMember } from './backup-tar';
import {
  BACKUP_FORMAT,
  imageMember,
  MANIFEST_FILE,
  SPEC_FILE,
  volumeMember,
} from './backup-format';
import type { BackupManifest } from './backup-format';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

/** A member stream that hands out `data` in 64 KiB chunks and counts how far it was read. */
function chunked(data: Buffer): { stream: Readable; readSoFar: () => number } {
  let offset = 0;
  const stream = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (offset >= data.length) return void this.push(null);
      this.push(data.subarray(offset, offset + 64 * 1024));
      offset += 64 * 1024;
    },
  });
  return { stream, readSoFar: () => offset };
}

function manifestFor(packed: PackedMember[], image: Buffer): BackupManifest {
  return {
    format: BACKUP_FORMAT,
    deviceId: 'dev-1',
    appId: 'notes',
    appName: 'Notes',
    appVersion: '1.2.0',
    takenAt: 1_700_000_000_000,
    pausedMs: 42,
    volumes: packed
      .filter((m) => m.name.startsWith('volumes/'))
      .map((m) => ({
        name: m.name.slice('volumes/'.length, -'.img'.length),
        sizeBytes: m.size,
        sha256: m.sha256,
      })),
    image: { sha256: sha(image), sizeBytes: image.length },
  };
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('packBackup and unpackBackup', () => {
  it('round-trip multi-MiB volumes, hashing each as it passes, manifest last', async () => {
    const data = randomBytes(5 * MiB + 123);
    const logs = randomBytes(3 * MiB);
    const image = randomBytes(MiB);
    const spec = Buffer.from('{"name":"notes"}');
    const members: BackupMember[] = [
      { name: volumeMember('data'), size: data.length, stream: chunked(data).stream },
      { name: volumeMember('logs'), size: logs.length, stream: chunked(logs).stream },
      { name: imageMember(sha(image)), size: image.length, stream: chunked(image).stream },
      { name: SPEC_FILE, content: spec },
    ];
    let reported: PackedMember[] = [];
    const tarStream = packBackup(members, (packed) => {
      reported = packed;
      return manifestFor(packed, image);
    });

    const received = new Map<string, Buffer>();
    const { manifest, members: read } = await unpackBackup(tarStream, async (entry) => {
      received.set(entry.name, await collect(entry.stream));
    });

    expect(reported).toEqual([
      { name: 'volumes/data.img', size: data.length, sha256: sha(data) },
      { name: 'volumes/logs.img', size: logs.length, sha256: sha(logs) },
      { name: `image/${sha(image)}`, size: image.length, sha256: sha(image) },
      { name: SPEC_FILE, size: spec.length, sha256: sha(spec) },
    ]);
    expect(read).toEqual(reported);
    expect(received.get('volumes/data.img')!.equals(data)).toBe(true);
    expect(received.get(SPEC_FILE)!.equals(spec)).toBe(true);
    expect(manifest.volumes.map((v) => v.name)).toEqual(['data', 'logs']);
    expect(manifestMismatches(manifest, read)).toEqual([]);
    // A member that arrived different is named.
    const bad = read.map((m) => (m.name === 'volumes/logs.img' ? { ...m, sha256: sha(data) } : m));
    expect(manifestMismatches(manifest, bad)).toEqual(['volumes/logs.img']);
  });

  it('is a plain tar with the manifest as its last member', async () => {
    const vol = randomBytes(100_000);
    const image = randomBytes(1000);
    const tarStream = packBackup(
      [
        { name: volumeMember('data'), size: vol.length, stream: chunked(vol).stream },
        { name: imageMember(sha(image)), content: image },
      ],
      (packed) => manifestFor(packed, image),
    );
    const names: string[] = [];
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      names.push(header.name);
      stream.on('end', () => next());
      stream.resume();
    });
    await pipeline(tarStream, extract as unknown as Writable);
    expect(names).toEqual(['volumes/data.img', `image/${sha(image)}`, MANIFEST_FILE]);
  });

  it('reads a member only as fast as the tar is read (never buffers a volume)', async () => {
    const vol = randomBytes(8 * MiB);
    const source = chunked(vol);
    const tarStream = packBackup(
      [{ name: volumeMember('data'), size: vol.length, stream: source.stream }],
      (packed) => manifestFor(packed, Buffer.alloc(0)),
    );
    // Read the first 256 KiB of the tar, then stop reading for a moment.
    let got = 0;
    for await (const chunk of tarStream as AsyncIterable<Buffer>) {
      got += chunk.length;
      if (got > 256 * 1024) break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(source.readSoFar()).toBeLessThan(2 * MiB);
  });

  it('hands a member to onEntry only as fast as onEntry reads it', async () => {
    const vol = randomBytes(8 * MiB);
    const tarBytes = await collect(
      packBackup(
        [{ name: volumeMember('data'), size: vol.length, stream: chunked(vol).stream }],
        (p) => manifestFor(p, Buffer.alloc(0)),
      ),
    );
    const source = chunked(tarBytes);
    let readWhilePaused = -1;
    const { members } = await unpackBackup(source.stream, async (entry) => {
      let got = 0;
      for await (const chunk of entry.stream as AsyncIterable<Buffer>) {
        got += chunk.length;
        if (got > 256 * 1024 && readWhilePaused < 0) {
          await new Promise((r) => setTimeout(r, 50));
          readWhilePaused = source.readSoFar();
        }
      }
    });
    expect(readWhilePaused).toBeGreaterThan(0);
    expect(readWhilePaused).toBeLessThan(2 * MiB);
    expect(members[0]).toEqual({ name: 'volumes/data.img', size: vol.length, sha256: sha(vol) });
  });

  it('fails the tar stream (never ends it) when a member fails or has the wrong size', async () => {
    const lost = new HearthError('CONNECTION_LOST');
    let sent = false;
    const failing = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(randomBytes(64 * 1024));
        setTimeout(() => this.destroy(lost), 10);
      },
    });
    await expect(
      collect(
        packBackup([{ name: volumeMember('data'), size: MiB, stream: failing }], () => {
          throw new Error('not reached');
        }),
      ),
    ).rejects.toBe(lost);

    for (const actual of [1000, 3000]) {
      await expect(
        collect(
          packBackup(
            [
              {
                name: volumeMember('data'),
                size: 2000,
                stream: chunked(randomBytes(actual)).stream,
              },
            ],
            (p) => manifestFor(p, Buffer.alloc(0)),
          ),
        ),
      ).rejects.toThrow(/bytes/);
    }
    await expect(
      collect(
        packBackup([{ name: '../escape', content: Buffer.alloc(1) }], () =>
          manifestFor([], Buffer.alloc(0)),
        ),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      collect(
        packBackup([{ name: MANIFEST_FILE, content: Buffer.alloc(1) }], () =>
          manifestFor([], Buffer.alloc(0)),
        ),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('says BACKUP_DAMAGED for a tar without a valid manifest last, or cut short', async () => {
    const raw = async (entries: [string, Buffer][]) => {
      const pack = tar.pack();
      for (const [name, content] of entries) pack.entry({ name }, content);
      pack.finalize();
      return collect(Readable.from(pack as AsyncIterable<Buffer>));
    };
    const manifest = Buffer.from(JSON.stringify(manifestFor([], Buffer.alloc(0))));
    const skip = async () => {};
    const cases: Buffer[] = [
      await raw([['volumes/data.img', Buffer.alloc(10)]]), // no manifest
      await raw([[MANIFEST_FILE, Buffer.from('{"format":1}')]]), // invalid manifest
      await raw([
        [MANIFEST_FILE, manifest],
        ['volumes/data.img', Buffer.alloc(10)],
      ]), // not last
      await raw([
        ['../../etc/passwd', Buffer.alloc(10)],
        [MANIFEST_FILE, manifest],
      ]),
      (await raw([['volumes/data.img', randomBytes(100_000)]])).subarray(0, 50_000), // cut short
    ];
    for (const bytes of cases)
      await expect(unpackBackup(Readable.from([bytes]), skip)).rejects.toMatchObject({
        code: 'BACKUP_DAMAGED',
      });
    // A good one, its members skipped unread: still hashed.
    const good = await unpackBackup(
      Readable.from([
        await raw([
          ['spec.json', Buffer.from('{}')],
          [MANIFEST_FILE, manifest],
        ]),
      ]),
      skip,
    );
    expect(good.members).toEqual([{ name: 'spec.json', size: 2, sha256: sha(Buffer.from('{}')) }]);
  });

  it('passes on the input’s own failure and the caller’s', async () => {
    const lost = new HearthError('CONNECTION_LOST');
    const input = new PassThrough();
    const unpacking = unpackBackup(input, async () => {});
    input.write(Buffer.alloc(512));
    input.destroy(lost);
    await expect(unpacking).rejects.toBe(lost);

    const vol = randomBytes(MiB);
    const tarStream = packBackup(
      [{ name: volumeMember('data'), size: vol.length, stream: chunked(vol).stream }],
      (p) => manifestFor(p, Buffer.alloc(0)),
    );
    const full = new HearthError('BACKUP_DEVICE_DISK_FULL');
    await expect(
      unpackBackup(tarStream, async () => {
        throw full;
      }),
    ).rejects.toBe(full);
  });

  it('opens no member once its reader is gone, and closes the one that came unread', async () => {
    let release!: () => void;
    const later = new Promise<void>((resolve) => (release = resolve));
    const second = chunked(randomBytes(MiB));
    async function* members(): AsyncGenerator<BackupMember> {
      // The copies are not ready yet when the reader (restic) goes away.
      await later;
      yield { name: volumeMember('data'), size: MiB, stream: second.stream };
    }
    const tarStream = packBackup(members(), (p) => manifestFor(p, Buffer.alloc(0)));
    tarStream.on('error', () => undefined);
    tarStream.destroy();
    release();
    await expect.poll(() => second.stream.destroyed).toBe(true);
    expect(second.readSoFar()).toBe(0);
  });
});
