// The laptop's state, one JSON document per name in the user-data folder. A write never
// leaves a half-written file behind (temp file, fsync, rename, fsync the folder), each
// document carries a checksum so a torn or edited file is detected, and the previous
// good copy is kept so a corrupt file costs at most the last change.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ZodType } from 'zod';
import { HearthError } from '../../../shared/errors';

const FORMAT = 'hearth-store/1';
const NAME = /^[a-z][a-z0-9-]{0,63}$/;

interface Envelope {
  format: typeof FORMAT;
  sha256: string;
  data: unknown;
}

export type LoadSource = 'file' | 'backup' | 'default';

export interface LoadResult<T> {
  value: T;
  /** Where the value came from; 'backup' means the main file was damaged and set aside. */
  source: LoadSource;
}

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

function encode(data: unknown): string {
  const json = JSON.stringify(data);
  return JSON.stringify({
    format: FORMAT,
    sha256: checksum(json),
    data: JSON.parse(json) as unknown,
  });
}

function decode(text: string): unknown {
  const envelope = JSON.parse(text) as Partial<Envelope>;
  if (envelope?.format !== FORMAT || typeof envelope.sha256 !== 'string')
    throw new Error('not a Hearth store file');
  if (checksum(JSON.stringify(envelope.data)) !== envelope.sha256)
    throw new Error('checksum mismatch');
  return envelope.data;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function storageError(error: unknown): HearthError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new HearthError('DISK_FULL', undefined, { cause: error });
  return new HearthError('STORAGE_FAILED', undefined, { cause: error });
}

export class AtomicJsonStore {
  readonly #dir: string;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #onRecovered: (name: string, movedTo: string) => void;

  constructor(
    dir: string,
    options: { onRecovered?: (name: string, movedTo: string) => void } = {},
  ) {
    this.#dir = dir;
    this.#onRecovered = options.onRecovered ?? (() => undefined);
  }

  /** Reads a document, validating it; falls back to the last good copy, then to `fallback`. */
  load<T>(name: string, schema: ZodType<T>, fallback: () => T): Promise<LoadResult<T>> {
    return this.#serialize(name, async () => {
      const main = this.#path(name);
      const main_ = await this.#readValid(main, schema);
      if (main_.ok) return { value: main_.value, source: 'file' as const };
      const backup = await this.#readValid(`${main}.bak`, schema);
      if (main_.present) {
        // Keep the damaged file for diagnosis rather than overwrite it silently.
        const movedTo = `${main}.corrupt-${Date.now()}`;
        await rename(main, movedTo).catch(() => undefined);
        this.#onRecovered(name, movedTo);
      }
      if (backup.ok) {
        await this.#write(name, backup.value, { keepBackup: false });
        return { value: backup.value, source: 'backup' as const };
      }
      return { value: fallback(), source: 'default' as const };
    });
  }

  save<T>(name: string, value: T): Promise<void> {
    return this.#serialize(name, () => this.#write(name, value, { keepBackup: true }));
  }

  #path(name: string): string {
    if (!NAME.test(name))
      throw new HearthError('INVALID_INPUT', `"${name}" is not a valid store name.`);
    return join(this.#dir, `${name}.json`);
  }

  async #readValid<T>(
    path: string,
    schema: ZodType<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; present: boolean }> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isNotFound(error)) return { ok: false, present: false };
      throw storageError(error);
    }
    try {
      const parsed = schema.safeParse(decode(text));
      return parsed.success ? { ok: true, value: parsed.data } : { ok: false, present: true };
    } catch {
      return { ok: false, present: true };
    }
  }

  async #write(
    name: string,
    value: unknown,
    { keepBackup }: { keepBackup: boolean },
  ): Promise<void> {
    const path = this.#path(name);
    const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(encode(value), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (keepBackup) {
        // Only a good main file becomes the backup; a damaged one must not replace it.
        const current = await readFile(path, 'utf8').catch(() => null);
        let currentOk = false;
        try {
          if (current !== null) currentOk = (decode(current), true);
        } catch {
          currentOk = false;
        }
        if (currentOk) await rename(path, `${path}.bak`);
      }
      await rename(temp, path);
      await this.#syncDir();
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error instanceof HearthError ? error : storageError(error);
    }
  }

  async #syncDir(): Promise<void> {
    // fsync on the folder makes the rename itself durable (POSIX); not possible on Windows.
    if (process.platform === 'win32') return;
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  #serialize<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#queues.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }
}
