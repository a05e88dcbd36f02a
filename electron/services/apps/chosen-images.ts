// Image files the owner chose through the native file dialog. The renderer never names a
// path: main reads and hashes the chosen file, and hands back a short-lived random token that
// stands for it. Installing by token re-checks the file (local-image.ts).
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { HearthError } from '../../../shared/errors';
import type { ChosenImage, ImageFacts } from '../../../shared/model';
import { inspectImage } from './image-inspection';
import { suggestResources } from './image-suggestions';
import { imageProblem, imageTargets } from './image-targets';

export const maxImageBytes = 512 * 1024 * 1024;
const defaultTtlMs = 60 * 60_000;
const maxKept = 16;

/** What main keeps about a chosen file; the path never leaves the main process. */
export interface ChosenImageRecord {
  path: string;
  fileName: string;
  size: number;
  sha256: string;
  facts: ImageFacts;
  /** The app id given to this file on each device, so a retried install resumes. */
  appIds: Map<string, string>;
}

export interface ChosenImagesOptions {
  now?: () => number;
  ttlMs?: number;
  maxBytes?: number;
}

const mib = (bytes: number) => Math.ceil(bytes / 1024 ** 2);

export class ChosenImages {
  readonly #entries = new Map<string, { record: ChosenImageRecord; until: number }>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxBytes: number;

  constructor(options: ChosenImagesOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? defaultTtlMs;
    this.#maxBytes = options.maxBytes ?? maxImageBytes;
  }

  /** Reads, hashes and inspects the file at `path` (one the owner picked), and remembers it. */
  async choose(path: string): Promise<ChosenImage> {
    const fileName = basename(path);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile())
      throw new HearthError('NOT_FOUND', `Hearth could not open ${fileName}: it is not a file.`);
    if (info.size > this.#maxBytes)
      throw new HearthError(
        'INVALID_INPUT',
        `${fileName} is ${mib(info.size)} MB; Hearth installs image files of up to ${mib(this.#maxBytes)} MB. App images are usually a few MB: check that this is the right file.`,
      );
    const bytes = await readFile(path).catch(() => {
      throw new HearthError(
        'NOT_FOUND',
        `Hearth could not read ${fileName}. Check that you may open it and try again.`,
      );
    });
    // It could have grown between stat and read.
    if (bytes.length > this.#maxBytes)
      throw new HearthError(
        'INVALID_INPUT',
        `${fileName} is larger than ${mib(this.#maxBytes)} MB, the most Hearth installs from a file.`,
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const facts = inspectImage(bytes);
    const record: ChosenImageRecord = {
      path,
      fileName,
      size: bytes.length,
      sha256,
      facts,
      appIds: new Map(),
    };
    const token = randomBytes(18).toString('base64url');
    this.#prune();
    this.#entries.set(token, { record, until: this.#now() + this.#ttlMs });
    return {
      token,
      fileName,
      size: record.size,
      sha256,
      facts,
      targets: imageTargets(facts),
      problem: imageProblem(facts),
      suggested: suggestResources(facts),
    };
  }

  /** The file a token stands for, or the owner's sentence when it is no longer known. */
  get(token: string): ChosenImageRecord {
    const entry = this.#entries.get(token);
    if (!entry || entry.until < this.#now()) {
      this.#entries.delete(token);
      throw new HearthError(
        'NOT_FOUND',
        'Hearth no longer has the file you chose (it was a while ago, or Hearth restarted). Choose it again.',
      );
    }
    return entry.record;
  }

  #prune(): void {
    const now = this.#now();
    for (const [token, entry] of this.#entries) if (entry.until < now) this.#entries.delete(token);
    // The oldest go first: Map keeps insertion order.
    while (this.#entries.size >= maxKept) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
