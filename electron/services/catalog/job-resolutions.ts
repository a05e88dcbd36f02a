// The builds a catalog's jobs resolved to, remembered on disk. Reading the catalogs never waits
// on a builds service once a job was resolved: the remembered build is shown, and only a
// refresh (or a job never resolved, as on a fresh install) asks the service. When the service
// cannot be reached, or answers nonsense, the remembered builds stay and the catalog says why.
import { z } from 'zod';
import { HearthError, isErrorCode, serializeError } from '../../../shared/errors';
import type { SerializedError } from '../../../shared/errors';
import type { AtomicJsonStore } from '../store/atomic-json-store';
import { catalogAppSchema } from './catalog-schema';
import type { BuildsJob, CatalogApp } from './catalog-schema';
import type { BuildsSource } from './builds-service-source';

const DOC = 'catalog-builds';
const MAX_REMEMBERED = 2000;

const docSchema = z.strictObject({
  resolved: z
    .array(
      z.strictObject({
        catalogId: z.string().max(2048),
        /** The job entry as the catalog wrote it: a changed entry is resolved afresh. */
        entry: z.string().max(64 * 1024),
        /** Checked against the catalog's rules again whenever it is read. */
        app: z.unknown(),
        resolvedAt: z.number(),
      }),
    )
    .max(MAX_REMEMBERED),
  problems: z
    .array(
      z.strictObject({
        catalogId: z.string().max(2048),
        code: z.string().max(64),
        message: z.string().max(1000),
      }),
    )
    .max(MAX_REMEMBERED),
});
type Doc = z.infer<typeof docSchema>;

export interface JobApps {
  apps: CatalogApp[];
  /** Why the latest look-up failed, the owner's sentence; null when it did not. */
  problem: SerializedError | null;
}

export interface JobResolutionsDeps {
  store: AtomicJsonStore;
  source: BuildsSource;
  now: () => number;
}

export class JobResolutions {
  readonly #deps: JobResolutionsDeps;

  constructor(deps: JobResolutionsDeps) {
    this.#deps = deps;
  }

  /**
   * The apps `jobs` stand for. Remembered builds are used as they are unless `fresh`; a job
   * with none is looked up now. A failed look-up keeps the remembered build (if any).
   */
  async appsFor(
    catalogId: string,
    jobs: readonly BuildsJob[],
    options: { fresh: boolean; signal?: AbortSignal },
  ): Promise<JobApps> {
    const doc = await this.#load();
    const apps: CatalogApp[] = [];
    let problem: SerializedError | null = null;
    let looked = false;
    for (const job of jobs) {
      const entry = JSON.stringify(job);
      const at = doc.resolved.findIndex((r) => r.catalogId === catalogId && r.entry === entry);
      const remembered = at >= 0 ? catalogAppSchema.safeParse(doc.resolved[at]?.app) : null;
      if (remembered?.success && !options.fresh) {
        apps.push(remembered.data);
        continue;
      }
      looked = true;
      try {
        const app = await this.#deps.source.resolve(job, { signal: options.signal });
        const record = { catalogId, entry, app, resolvedAt: this.#deps.now() };
        if (at >= 0) doc.resolved[at] = record;
        else doc.resolved.push(record);
        apps.push(app);
      } catch (error) {
        if (error instanceof HearthError && error.code === 'CANCELLED') throw error;
        problem ??= serializeError(error);
        if (remembered?.success) apps.push(remembered.data);
      }
    }
    if (!looked) return { apps, problem: storedProblem(doc, catalogId) };
    // Forget builds of jobs this catalog no longer lists.
    const listed = new Set(jobs.map((j) => JSON.stringify(j)));
    doc.resolved = doc.resolved
      .filter((r) => r.catalogId !== catalogId || listed.has(r.entry))
      .slice(-MAX_REMEMBERED);
    doc.problems = doc.problems.filter((p) => p.catalogId !== catalogId);
    if (problem) doc.problems.push({ catalogId, code: problem.code, message: problem.message });
    doc.problems = doc.problems.slice(-MAX_REMEMBERED);
    await this.#deps.store.save(DOC, doc);
    return { apps, problem };
  }

  async #load(): Promise<Doc> {
    const { value } = await this.#deps.store.load(DOC, docSchema, () => ({
      resolved: [],
      problems: [],
    }));
    return value;
  }
}

function storedProblem(doc: Doc, catalogId: string): SerializedError | null {
  const found = doc.problems.find((p) => p.catalogId === catalogId);
  if (!found) return null;
  return { code: isErrorCode(found.code) ? found.code : 'INTERNAL', message: found.message };
}
