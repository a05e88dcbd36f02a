// Downloaded images kept on the laptop under their sha256, so installing the same app
// on a second device does not download it again. A cached file is hashed again before
// every use: a file damaged on disk is thrown away and downloaded afresh, never sent on.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HearthError } from '../../../shared/errors';
import { downloadArtifact, partialPath } from './artifact-download';
import type { ArtifactRef, DownloadOptions } from './artifact-download';
import { sha256Schema } from './catalog-schema';
import { hashFile } from './hash-file';

export interface CachedArtifact {
  /** A verified file whose name is its sha256. */
  path: string;
  fromCache: boolean;
}

export class ArtifactCache {
  readonly #dir: string;
  readonly #defaults: Pick<DownloadOptions, 'fetch' | 'retryDelayMs' | 'maxStalledAttempts'>;
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(
    dir: string,
    defaults: Pick<DownloadOptions, 'fetch' | 'retryDelayMs' | 'maxStalledAttempts'> = {},
  ) {
    this.#dir = dir;
    this.#defaults = defaults;
  }

  pathFor(sha256: string): string {
    // The name comes from a catalog: only ever a hash, never a path.
    if (!sha256Schema.safeParse(sha256).success)
      throw new HearthError('INVALID_INPUT', 'That is not an image fingerprint Hearth knows.');
    return join(this.#dir, sha256);
  }

  /** A verified local copy of `artifact`, from the cache or freshly downloaded. */
  get(artifact: ArtifactRef, options: DownloadOptions = {}): Promise<CachedArtifact> {
    const path = this.pathFor(artifact.sha256);
    // Two installs of one image share the work: the second finds it cached.
    const previous = this.#inFlight.get(artifact.sha256) ?? Promise.resolve();
    const next = previous.then(
      () => this.#get(artifact, path, options),
      () => this.#get(artifact, path, options),
    );
    const settled = next.catch(() => undefined);
    this.#inFlight.set(artifact.sha256, settled);
    void settled.then(() => {
      if (this.#inFlight.get(artifact.sha256) === settled) this.#inFlight.delete(artifact.sha256);
    });
    return next;
  }

  /** Deletes a cached image and any partial download of it. */
  async remove(sha256: string): Promise<void> {
    const path = this.pathFor(sha256);
    await rm(path, { force: true });
    await rm(partialPath(path), { force: true });
  }

  async #get(
    artifact: ArtifactRef,
    path: string,
    options: DownloadOptions,
  ): Promise<CachedArtifact> {
    const cached = await hashFile(path, options.signal).catch((error: unknown) => {
      if (options.signal?.aborted) throw new HearthError('CANCELLED', undefined, { cause: error });
      return null; // not cached (or unreadable): download it
    });
    if (cached?.size === artifact.size && cached.sha256 === artifact.sha256) {
      options.onProgress?.(artifact.size, artifact.size);
      return { path, fromCache: true };
    }
    if (cached) await rm(path, { force: true });
    await downloadArtifact(artifact, path, { ...this.#defaults, ...options });
    return { path, fromCache: false };
  }
}
