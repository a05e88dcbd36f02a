// The app catalogs the owner can install from: the one Hearth ships, plus any added by
// URL. Added catalogs are remembered with their last good (signed) copy, so the list
// works offline and a catalog server that breaks, or starts serving something
// untrusted or older, never takes apps away or rolls them back.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { HearthError, isErrorCode, serializeError } from '../../../shared/errors';
import type { SerializedError } from '../../../shared/errors';
import { systemClock } from '../clock';
import type { Clock } from '../clock';
import type { AtomicJsonStore } from '../store/atomic-json-store';
import { appNotFound, noBuildForDevice, olderCopyRefused } from './catalog-errors';
import type { Artifact, CatalogApp, CatalogIndex, Resources, Target } from './catalog-schema';
import { loadTrustedKeys, MAX_CATALOG_BYTES } from './catalog-signature';
import type { TrustedKey, TrustedKeySet } from './catalog-signature';
import { checkCatalogUrl } from './catalog-url';
import { BuildsServiceSource } from './builds-service-source';
import type { BuildsSource } from './builds-service-source';
import { compareVersions, newestFirst } from './compare-versions';
import { fetchLimited } from './fetch-limited';
import type { FetchLike } from './fetch-limited';
import { JobResolutions } from './job-resolutions';
import { readCatalog } from './read-catalog';

export const DEFAULT_CATALOG_ID = 'default';
export const MAX_ADDED_CATALOGS = 16;
const STORE_NAME = 'catalogs';

/** Which catalog something came from. `id` is 'default' or the catalog's URL. */
export interface CatalogRef {
  id: string;
  name: string;
  url: string | null;
}

export interface CatalogSummary extends CatalogRef {
  builtIn: boolean;
  /** The index's own `updated` stamp, or null if no good copy was ever read. */
  updated: string | null;
  appCount: number;
  /** When the copy in use was fetched (ms since epoch); null for the built-in catalog. */
  fetchedAt: number | null;
  /** Why the latest read or refresh failed; the last good copy, if any, stays in use. */
  problem: SerializedError | null;
}

export interface CatalogAppEntry {
  catalog: CatalogRef;
  app: CatalogApp;
}

export interface CatalogListing {
  catalogs: CatalogSummary[];
  apps: CatalogAppEntry[];
}

export interface ResolveRequest {
  appId: string;
  /** A specific version; otherwise the newest release with a build for `target`. */
  version?: string;
  target: Target;
  /** Which catalog to take the app from; otherwise the first that has it (default first). */
  catalogId?: string;
}

export interface ResolvedApp {
  catalog: CatalogRef;
  appId: string;
  appName: string;
  version: string;
  target: Target;
  artifact: Artifact;
  resources: Resources;
  /** The catalog's release notes for this version, plain text; empty when it gave none. */
  releaseNotes: string;
}

export interface CatalogServiceOptions {
  store: AtomicJsonStore;
  /** Pinned publisher keys; a catalog signed by any other key is refused. */
  trustedKeys: readonly TrustedKey[] | TrustedKeySet;
  /** The signed catalog Hearth ships (resources/catalog/default.json). */
  defaultCatalogPath: string;
  fetch?: FetchLike;
  /** Resolves catalogs' builds-service jobs to builds (default: builder-web over `fetch`). */
  builds?: BuildsSource;
  clock?: Clock;
  timeoutMs?: number;
  maxBytes?: number;
}

const storedSchema = z.strictObject({
  catalogs: z
    .array(
      z.strictObject({
        url: z.string().max(2048),
        addedAt: z.number(),
        /** The last good signed file, verified again every time it is read. */
        file: z.string().max(4 * MAX_CATALOG_BYTES),
        fetchedAt: z.number(),
        /**
         * Why the latest refresh was refused (a replayed older copy, an unreachable server),
         * kept so the owner still reads it after Hearth restarts; cleared by a good refresh.
         */
        problem: z
          .strictObject({ code: z.string().max(64), message: z.string().max(1000) })
          .optional(),
      }),
    )
    .max(MAX_ADDED_CATALOGS),
});
type Stored = z.infer<typeof storedSchema>;

interface Loaded {
  summary: CatalogSummary;
  index: CatalogIndex | null;
}

function describeTarget(target: Target): string {
  const [runtime, arch] = target.split('-', 2) as [string, string];
  if (runtime === 'xen') return `Xen, ${arch}`;
  if (runtime === 'hvt') return `Solo5, ${arch}`;
  if (runtime === 'spt') return `Solo5 spt, ${arch}`;
  return arch;
}

/** A problem read back from the store; an unknown code (a later Hearth's) reads as INTERNAL. */
function storedProblem(
  problem: { code: string; message: string } | undefined,
): SerializedError | null {
  if (!problem) return null;
  return { code: isErrorCode(problem.code) ? problem.code : 'INTERNAL', message: problem.message };
}

function refOf(summary: CatalogSummary): CatalogRef {
  return { id: summary.id, name: summary.name, url: summary.url };
}

export class CatalogService {
  readonly #options: CatalogServiceOptions;
  readonly #trusted: TrustedKeySet;
  readonly #clock: Clock;
  readonly #jobs: JobResolutions;
  #state: Promise<Loaded[]> | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CatalogServiceOptions) {
    this.#options = options;
    this.#trusted =
      options.trustedKeys instanceof Map
        ? options.trustedKeys
        : loadTrustedKeys(options.trustedKeys as readonly TrustedKey[]);
    this.#clock = options.clock ?? systemClock;
    this.#jobs = new JobResolutions({
      store: options.store,
      source:
        options.builds ??
        new BuildsServiceSource({ fetch: options.fetch, timeoutMs: options.timeoutMs }),
      now: () => this.#clock.now(),
    });
  }

  async list(): Promise<CatalogListing> {
    const loaded = await this.#load();
    return {
      catalogs: loaded.map((l) => ({ ...l.summary })),
      apps: loaded.flatMap((l) =>
        (l.index?.apps ?? []).map((app) => ({ catalog: refOf(l.summary), app })),
      ),
    };
  }

  /** Fetches, verifies and reads a catalog, and only then remembers its URL. */
  addCatalog(url: string, options: { signal?: AbortSignal } = {}): Promise<CatalogSummary> {
    return this.#exclusive(async () => {
      const href = checkCatalogUrl(url);
      const stored = await this.#stored();
      const existing = stored.catalogs.find((c) => c.url === href);
      if (existing) return this.#summaryFor(href);
      if (stored.catalogs.length >= MAX_ADDED_CATALOGS)
        throw new HearthError(
          'INVALID_INPUT',
          `Hearth can follow at most ${MAX_ADDED_CATALOGS} app catalogs. Remove one first.`,
        );
      const file = await this.#fetch(href, options.signal);
      readCatalog(file, this.#trusted); // throws the owner's sentence if it is not usable
      const now = this.#clock.now();
      stored.catalogs.push({ url: href, addedAt: now, file, fetchedAt: now });
      await this.#options.store.save(STORE_NAME, stored);
      this.#state = null;
      return this.#summaryFor(href);
    });
  }

  /** Forgets an added catalog; false if it was not added. The built-in one stays. */
  removeCatalog(url: string): Promise<boolean> {
    return this.#exclusive(async () => {
      if (url === DEFAULT_CATALOG_ID)
        throw new HearthError(
          'INVALID_INPUT',
          'The catalog that comes with Hearth cannot be removed.',
        );
      let href: string;
      try {
        href = new URL(url.trim()).href;
      } catch {
        return false;
      }
      const stored = await this.#stored();
      const kept = stored.catalogs.filter((c) => c.url !== href);
      if (kept.length === stored.catalogs.length) return false;
      await this.#options.store.save(STORE_NAME, { catalogs: kept });
      this.#state = null;
      return true;
    });
  }

  /**
   * Fetches every added catalog again. A failure is reported in that catalog's summary
   * and its last good copy stays in use; a copy older than the one kept is refused, so a
   * stale mirror (or an attacker replaying an old signed file) cannot roll apps back. Every
   * catalog's builds-service jobs are looked up again too; one that fails keeps its last build.
   */
  refresh(options: { signal?: AbortSignal } = {}): Promise<CatalogSummary[]> {
    return this.#exclusive(async () => {
      const stored = await this.#stored();
      for (const entry of stored.catalogs) {
        if (options.signal?.aborted) throw new HearthError('CANCELLED');
        try {
          const file = await this.#fetch(entry.url, options.signal);
          const fresh = readCatalog(file, this.#trusted);
          const old = this.#tryRead(entry.file);
          if (old && Date.parse(fresh.updated) < Date.parse(old.updated))
            throw olderCopyRefused(old.name);
          entry.file = file;
          entry.fetchedAt = this.#clock.now();
          delete entry.problem;
        } catch (error) {
          if (error instanceof HearthError && error.code === 'CANCELLED') throw error;
          entry.problem = serializeError(error);
        }
      }
      await this.#options.store.save(STORE_NAME, stored);
      const loaded = this.#readAll({ freshJobs: true, signal: options.signal });
      this.#state = loaded;
      return (await this.#load()).map((l) => ({ ...l.summary }));
    });
  }

  /** The build and resources of an app for one kind of device. */
  async resolve(request: ResolveRequest): Promise<ResolvedApp> {
    const loaded = await this.#load();
    const candidates = loaded.filter(
      (l) => l.index && (request.catalogId === undefined || l.summary.id === request.catalogId),
    );
    for (const catalog of candidates) {
      const app = catalog.index?.apps.find((a) => a.id === request.appId);
      if (!app) continue;
      let versions = newestFirst(app.versions);
      if (request.version !== undefined) {
        versions = versions.filter((v) => compareVersions(v.version, request.version ?? '') === 0);
        if (versions.length === 0)
          throw new HearthError(
            'NOT_FOUND',
            `${app.name} has no version ${request.version} in this catalog.`,
          );
      }
      const chosen = versions.find((v) => v.artifacts[request.target]);
      const artifact = chosen?.artifacts[request.target];
      if (!chosen || !artifact)
        throw noBuildForDevice(app.name, describeTarget(request.target), request.version);
      return {
        catalog: refOf(catalog.summary),
        appId: app.id,
        appName: app.name,
        version: chosen.version,
        target: request.target,
        artifact,
        resources: chosen.resources,
        releaseNotes: chosen.releaseNotes ?? '',
      };
    }
    throw appNotFound(request.appId);
  }

  #tryRead(file: string): CatalogIndex | null {
    try {
      return readCatalog(file, this.#trusted);
    } catch {
      return null;
    }
  }

  async #summaryFor(url: string): Promise<CatalogSummary> {
    const loaded = await this.#load();
    const found = loaded.find((l) => l.summary.url === url);
    if (!found) throw new HearthError('INTERNAL');
    return { ...found.summary };
  }

  async #fetch(url: string, signal: AbortSignal | undefined): Promise<string> {
    const bytes = await fetchLimited(url, {
      fetch: this.#options.fetch,
      timeoutMs: this.#options.timeoutMs,
      maxBytes: this.#options.maxBytes ?? MAX_CATALOG_BYTES,
      signal,
      what: 'the app catalog',
    });
    return bytes.toString('utf8');
  }

  async #stored(): Promise<Stored> {
    const { value } = await this.#options.store.load(STORE_NAME, storedSchema, () => ({
      catalogs: [],
    }));
    return value;
  }

  #load(): Promise<Loaded[]> {
    this.#state ??= this.#readAll();
    const state = this.#state;
    // A failed read (e.g. the disk) is not cached: the next call tries again.
    state.catch(() => {
      if (this.#state === state) this.#state = null;
    });
    return state;
  }

  async #readAll(jobs: { freshJobs: boolean; signal?: AbortSignal } = { freshJobs: false }) {
    const loaded = await this.#readFiles();
    for (const l of loaded) {
      const listed = l.index?.jobs;
      if (!l.index || !listed?.length) continue;
      const found = await this.#jobs.appsFor(l.summary.id, listed, {
        fresh: jobs.freshJobs,
        signal: jobs.signal,
      });
      l.index = { ...l.index, apps: [...l.index.apps, ...found.apps] };
      l.summary.appCount = l.index.apps.length;
      l.summary.problem ??= found.problem;
    }
    return loaded;
  }

  async #readFiles(): Promise<Loaded[]> {
    const builtIn = await this.#readBuiltIn();
    const stored = await this.#stored();
    const added = stored.catalogs.map((entry): Loaded => {
      try {
        const index = readCatalog(entry.file, this.#trusted);
        return {
          index,
          summary: {
            id: entry.url,
            name: index.name,
            url: entry.url,
            builtIn: false,
            updated: index.updated,
            appCount: index.apps.length,
            fetchedAt: entry.fetchedAt,
            problem: storedProblem(entry.problem),
          },
        };
      } catch (error) {
        // The stored copy no longer verifies (edited on disk, or its key was unpinned).
        return {
          index: null,
          summary: {
            id: entry.url,
            name: new URL(entry.url).host,
            url: entry.url,
            builtIn: false,
            updated: null,
            appCount: 0,
            fetchedAt: entry.fetchedAt,
            problem: serializeError(error),
          },
        };
      }
    });
    return [builtIn, ...added];
  }

  async #readBuiltIn(): Promise<Loaded> {
    const base = { id: DEFAULT_CATALOG_ID, url: null, builtIn: true, fetchedAt: null };
    try {
      const index = readCatalog(await readFile(this.#options.defaultCatalogPath), this.#trusted);
      return {
        index,
        summary: {
          ...base,
          name: index.name,
          updated: index.updated,
          appCount: index.apps.length,
          problem: null,
        },
      };
    } catch (error) {
      // A broken built-in catalog is Hearth's bug; added catalogs must keep working.
      return {
        index: null,
        summary: {
          ...base,
          name: 'Hearth apps',
          updated: null,
          appCount: 0,
          problem: serializeError(error),
        },
      };
    }
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
