// The tar stream of one backup run (backup-format.ts): packBackup writes it, unpackBackup reads
// it back. Volumes are gigabytes, so neither ever holds a member in memory: each one passes
// through a sha256 on its way, at the pace of whoever reads the other end.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { HearthError } from '../../../shared/errors';
import { backupManifestSchema, imageMember, MANIFEST_FILE, volumeMember } from './backup-format';
import type { BackupManifest } from './backup-format';

export type BackupMember =
  { name: string; size: number; stream: Readable } | { name: string; content: Buffer };

export interface PackedMember {
  name: string;
  size: number;
  sha256: string;
}

/** The manifest is small; anything bigger under its name is not Hearth's. */
const MANIFEST_MAX_BYTES = 1024 * 1024;

/** Relative, forward slashes, no `..`, no empty parts: safe to name anywhere it is extracted. */
function checkName(name: string): void {
  const parts = name.split('/');
  if (
    name.length === 0 ||
    name.length > 255 ||
    name.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  )
    throw new HearthError('INVALID_INPUT', undefined, { cause: new Error(`member ${name}`) });
}

function damaged(detail: string): HearthError {
  return new HearthError('BACKUP_DAMAGED', undefined, { cause: new Error(detail) });
}

/**
 * The run's tar stream. `members` are written in order, each streamed member hashed as it
 * passes; then `manifest` is called with every member's size and sha256, and what it returns
 * is validated and written last, as hearth-backup.json. Any failure (a member stream's error,
 * a size that is not the declared one, an invalid manifest) destroys the returned stream with
 * that error, so whoever reads it (restic) never sees a clean end of a partial backup.
 */
export function packBackup(
  members: AsyncIterable<BackupMember> | Iterable<BackupMember>,
  manifest: (packed: PackedMember[]) => BackupManifest | Promise<BackupManifest>,
  o: { mtime?: Date } = {},
): Readable {
  // A fixed mtime keeps the tar headers the same from run to run (restic deduplicates them).
  const mtime = o.mtime ?? new Date(0);
  const pack = tar.pack();
  // The error reaches the reader through the Readable below; without a listener streamx
  // would also throw it as an uncaught 'error' event.
  pack.on('error', () => {});
  const packed: PackedMember[] = [];
  const seen = new Set<string>();
  // tar-stream's pack is a streamx stream; a Node Readable pulling from it keeps backpressure
  // and carries its error through as an error (never as an end).
  const out = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });

  const writeBuffer = (name: string, content: Buffer) =>
    new Promise<void>(
      (resolve, reject) =>
        pack
          .entry({ name, size: content.length, mtime, mode: 0o644 }, content, (err) =>
            err ? reject(err) : resolve(),
          )
          .on('error', () => {}), // told through the callback
    );

  const writeStream = async (name: string, size: number, stream: Readable) => {
    const hash = createHash('sha256');
    let written = 0;
    let entryError: Error | null = null;
    let settle!: (err?: Error | null) => void;
    const entryDone = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    // Awaited below; this only keeps an entry that fails early from being "unhandled".
    entryDone.catch(() => {});
    const sink = pack.entry({ name, size, mtime, mode: 0o644 }, (err) => {
      entryError = err ?? null;
      settle(err);
    });
    sink.on('error', () => {}); // told through the callback above
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        written += chunk.length;
        // tar-stream does not check an entry's length while it writes; a member longer than
        // its header says would shift every byte after it.
        if (written > size) throw new Error(`${name}: more than ${size} bytes`);
        hash.update(chunk);
        if (!sink.write(chunk)) await once(sink, 'drain');
        if (entryError) throw entryError as Error;
      }
      if (written !== size) throw new Error(`${name}: ${written} bytes, not ${size}`);
      sink.end(undefined); // (its typings here take no zero-argument end)
      await entryDone;
    } catch (err) {
      stream.destroy();
      throw err;
    }
    return hash.digest('hex');
  };

  void (async () => {
    for await (const member of members) {
      // A reader that is gone (restic stopped) reads nothing more: a member that comes after it
      // is closed unread, so its source (a device's cat) is not left waiting.
      if (out.destroyed) {
        if ('stream' in member) member.stream.destroy();
        return;
      }
      checkName(member.name);
      if (member.name === MANIFEST_FILE || seen.has(member.name))
        throw new HearthError('INVALID_INPUT', undefined, {
          cause: new Error(`member ${member.name} twice or reserved`),
        });
      seen.add(member.name);
      if ('content' in member) {
        await writeBuffer(member.name, member.content);
        packed.push({
          name: member.name,
          size: member.content.length,
          sha256: createHash('sha256').update(member.content).digest('hex'),
        });
      } else {
        if (!Number.isSafeInteger(member.size) || member.size < 0)
          throw new HearthError('INVALID_INPUT', undefined, {
            cause: new Error(`member ${member.name} size`),
          });
        const sha256 = await writeStream(member.name, member.size, member.stream);
        packed.push({ name: member.name, size: member.size, sha256 });
      }
    }
    const doc = backupManifestSchema.safeParse(await manifest(packed));
    if (!doc.success)
      throw new HearthError('INVALID_INPUT', undefined, {
        cause: new Error(`manifest: ${doc.error.message}`),
      });
    await writeBuffer(MANIFEST_FILE, Buffer.from(JSON.stringify(doc.data, null, 2) + '\n'));
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

export interface UnpackedEntry {
  name: string;
  size: number;
  /** The member's bytes; hashed as they are read. Left unread, they are skipped (and hashed). */
  stream: Readable;
}

/**
 * Reads a run's tar stream. Each member but the manifest goes to `onEntry` as a stream, one at
 * a time, never buffered whole; its sha256 is computed as it passes. The manifest must be the
 * last member and valid; otherwise (or with links, folders, names out of bounds, a member
 * twice) this rejects with BACKUP_DAMAGED. The caller compares the hashes with the manifest
 * (manifestMismatches) before trusting what it wrote out.
 */
export async function unpackBackup(
  input: Readable,
  onEntry: (entry: UnpackedEntry) => Promise<void>,
): Promise<{ manifest: BackupManifest; members: PackedMember[] }> {
  const extract = tar.extract();
  const members: PackedMember[] = [];
  const seen = new Set<string>();
  let manifest: BackupManifest | undefined;
  let inputError: Error | null = null;
  let callerError: { err: unknown } | null = null;
  input.once('error', (err) => {
    inputError = err;
    extract.destroy(err);
  });
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const { name, size = 0, type } = entry.header;
      if (manifest) throw damaged(`${name} after the manifest`);
      if (type !== 'file') throw damaged(`${name} is a ${type}`);
      try {
        checkName(name);
      } catch {
        throw damaged(`member name ${name}`);
      }
      if (seen.has(name)) throw damaged(`${name} twice`);
      seen.add(name);

      if (name === MANIFEST_FILE) {
        if (size > MANIFEST_MAX_BYTES) throw damaged('manifest too large');
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          throw damaged('manifest is not JSON');
        }
        const parsed = backupManifestSchema.safeParse(json);
        if (!parsed.success) throw damaged(`manifest: ${parsed.error.message}`);
        manifest = parsed.data;
        continue;
      }

      const hash = createHash('sha256');
      let bytes = 0;
      const hashed = async function* () {
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      };
      const stream = Readable.from(hashed(), { objectMode: false });
      try {
        await onEntry({ name, size, stream });
      } catch (err) {
        callerError = { err };
        throw err;
      }
      // Whatever onEntry left unread is read here, so the next member can come.
      if (!stream.destroyed) for await (const _ of stream) void _;
      if (bytes !== size) throw damaged(`${name}: ${bytes} bytes, not ${size}`);
      members.push({ name, size, sha256: hash.digest('hex') });
    }
  } catch (err) {
    input.unpipe(extract);
    input.destroy();
    extract.destroy();
    // The input's own failure (a lost connection) says more than the tar reader's; any other
    // failure of the tar reader (cut short, not a tar) is damage.
    if (callerError) throw (callerError as { err: unknown }).err;
    if (inputError) throw inputError as Error;
    if (err instanceof HearthError) throw err;
    throw damaged(err instanceof Error ? err.message : String(err));
  }
  if (!manifest) throw damaged('no manifest');
  return { manifest, members };
}

/** The members whose bytes are not what the manifest says (or that are missing). */
export function manifestMismatches(manifest: BackupManifest, members: PackedMember[]): string[] {
  const byName = new Map(members.map((m) => [m.name, m]));
  const expected = [
    ...manifest.volumes.map((v) => ({
      name: volumeMember(v.name),
      size: v.sizeBytes,
      sha256: v.sha256,
    })),
    ...[manifest.image, ...(manifest.initrd ? [manifest.initrd] : [])].map((file) => ({
      name: imageMember(file.sha256),
      size: file.sizeBytes,
      sha256: file.sha256,
    })),
  ];
  return expected
    .filter((e) => {
      const m = byName.get(e.name);
      return !m || m.size !== e.size || m.sha256 !== e.sha256;
    })
    .map((e) => e.name);
}
