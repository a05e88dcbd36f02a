// Downloading an image the catalog promised, so that what reaches a device is exactly
// those bytes. Bytes go to `<dest>.partial` (a name nothing ever starts); a cut
// connection is resumed with an HTTP Range request, from this call's retries or from a
// later call; only a file whose size and sha256 match is renamed into place. A mismatch
// deletes the partial file: nothing of it can be installed.
import { open, rename, rm, stat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HearthError } from '../../../shared/errors';
import { downloadMismatch, fetchFailed, urlRefused } from './catalog-errors';
import type { FileRef } from './catalog-schema';
import { urlProblem } from './catalog-url';
import type { FetchLike } from './fetch-limited';
import { hashFile } from './hash-file';

export type ArtifactRef = Pick<FileRef, 'url' | 'size' | 'sha256'>;

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Bytes on disk so far (including what an earlier attempt left) and the total. */
  onProgress?: (done: number, total: number) => void;
  /** The app's name, for the owner's messages ("The download of Counter …"). */
  label?: string;
  fetch?: FetchLike;
  /** Consecutive attempts that make no progress before giving up. */
  maxStalledAttempts?: number;
  retryDelayMs?: number;
}

export function partialPath(destPath: string): string {
  return `${destPath}.partial`;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** A 4xx other than 408/429 will not get better by asking again. */
class PermanentHttpError extends Error {}

interface Attempt {
  url: string;
  partial: string;
  have: number;
  size: number;
  label: string;
  signal: AbortSignal | undefined;
  fetch: FetchLike;
  onProgress: (done: number, total: number) => void;
}

function contentRangeStart(header: string | null): number | null {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header?.trim() ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** One HTTP request appending to the partial file; returns how many bytes it added. */
async function attempt(a: Attempt): Promise<number> {
  const headers: Record<string, string> = a.have > 0 ? { Range: `bytes=${a.have}-` } : {};
  const response = await a.fetch(a.url, {
    signal: a.signal ?? new AbortController().signal,
    headers,
  });
  const redirected = response.url ? urlProblem(response.url) : null;
  if (redirected) {
    await response.body?.cancel().catch(() => undefined);
    throw urlRefused(`Hearth did not download ${a.label}: it was redirected and ${redirected}.`);
  }
  if (response.status === 416) {
    // The server has fewer bytes than we think we have: start over.
    await response.body?.cancel().catch(() => undefined);
    await rm(a.partial, { force: true });
    return 0;
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const error = new Error(`HTTP ${response.status}`);
    const permanent =
      response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
    throw permanent ? new PermanentHttpError(error.message) : error;
  }
  // 206 from where we asked: append. Anything else (a 200: the server ignored Range, or
  // a 206 from elsewhere) restarts the file from the first byte.
  let offset = a.have;
  const resumes =
    response.status === 206 && contentRangeStart(response.headers.get('content-range')) === a.have;
  if (!resumes) {
    offset = 0;
    if (response.status === 206 && contentRangeStart(response.headers.get('content-range')) !== 0) {
      await response.body?.cancel().catch(() => undefined);
      await rm(a.partial, { force: true });
      return 0;
    }
  }
  const start = offset;
  const handle = await open(a.partial, resumes ? 'a' : 'w', 0o600);
  try {
    a.onProgress(offset, a.size);
    if (response.body) {
      for await (const value of response.body) {
        const chunk = value as Uint8Array;
        if (offset + chunk.byteLength > a.size) {
          await handle.close().catch(() => undefined);
          await rm(a.partial, { force: true });
          throw downloadMismatch(a.label, 'more bytes than promised');
        }
        await handle.write(chunk);
        offset += chunk.byteLength;
        a.onProgress(offset, a.size);
      }
    }
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
  return offset - start;
}

/**
 * Downloads `artifact` to `destPath`, verified. Throws CANCELLED when `signal` aborts
 * (the partial file stays for a later resume), a mismatch HearthError when the bytes are
 * not the promised ones (the partial file is deleted), or a network HearthError after
 * repeated attempts made no progress (the partial file stays).
 */
export async function downloadArtifact(
  artifact: ArtifactRef,
  destPath: string,
  options: DownloadOptions = {},
): Promise<void> {
  const label = options.label ?? 'this app';
  const problem = urlProblem(artifact.url);
  if (problem) throw urlRefused(`Hearth cannot download ${label}: ${problem}.`);
  const partial = partialPath(destPath);
  const signal = options.signal;
  const maxStalled = options.maxStalledAttempts ?? 3;
  const cancelled = (cause?: unknown) => new HearthError('CANCELLED', undefined, { cause });

  await mkdir(dirname(destPath), { recursive: true });
  // Bytes left by an earlier run may come from a file the server has since replaced (or
  // be damaged on disk): if the result does not match, try once more from scratch
  // before telling the owner the download itself is wrong.
  const resumedOldBytes = (await sizeOf(partial)) > 0;
  let stalled = 0;
  for (;;) {
    if (signal?.aborted) throw cancelled(signal.reason);
    let have = await sizeOf(partial);
    if (have > artifact.size) {
      await rm(partial, { force: true });
      have = 0;
    }
    if (have === artifact.size) break;
    let added = 0;
    let failure: unknown = null;
    try {
      added = await attempt({
        url: artifact.url,
        partial,
        have,
        size: artifact.size,
        label,
        signal,
        fetch: options.fetch ?? globalThis.fetch,
        onProgress: options.onProgress ?? (() => undefined),
      });
    } catch (error) {
      if (signal?.aborted) throw cancelled(error);
      if (error instanceof HearthError) throw error;
      if (error instanceof PermanentHttpError) throw fetchFailed(label, error);
      failure = error;
    }
    if (added > 0) {
      stalled = 0;
      continue;
    }
    stalled += 1;
    if (stalled >= maxStalled) throw fetchFailed(label, failure ?? new Error('no progress'));
    try {
      await sleep((options.retryDelayMs ?? 500) * stalled, undefined, { signal });
    } catch (error) {
      throw cancelled(error);
    }
  }

  const actual = await hashFile(partial, signal).catch((error: unknown) => {
    if (signal?.aborted) throw cancelled(error);
    throw error;
  });
  if (actual.size !== artifact.size || actual.sha256 !== artifact.sha256) {
    await rm(partial, { force: true });
    if (resumedOldBytes) return downloadArtifact(artifact, destPath, options);
    throw downloadMismatch(label, `got ${actual.size} bytes, sha256 ${actual.sha256}`);
  }
  await rename(partial, destPath);
  await syncDir(dirname(destPath));
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable (POSIX); folders cannot be opened this way on Windows.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
