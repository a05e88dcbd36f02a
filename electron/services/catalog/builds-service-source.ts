// Turns a catalog's builds-service job (an app Hearth vouches for by the reproducible-build job
// that makes it) into a concrete app: which build, its image's address, size and sha256, and
// what changed since the image before. It speaks builder-web's JSON (builds.robur.coop; what
// the service answers is in builds-service-schema.ts, checked against builder-web's source):
//   GET /job/<job>                            the job's images, newest first, one per build
//                                             that made a different one
//   GET /job/<job>/build/<uuid>/main-binary   the image (a redirect to the build's bin/ file,
//                                             downloaded later and checked as any download)
// builder-web's build page and /hash answer HTML only, so a pinned sha256 is found in the job's
// list and the Solo5 target is read from the image's filename; the image's own manifest is read
// when it is installed (a device it needs that the app lacks is refused then, before upload).
import type { z } from 'zod';
import { HearthError } from '../../../shared/errors';
import { buildRefused, buildsServiceGarbled, buildsServiceUnreachable } from './catalog-errors';
import { catalogAppSchema, describeIssue } from './catalog-schema';
import type { BuildsJob, CatalogApp } from './catalog-schema';
import { jobSchema } from './builds-service-schema';
import type { BuildSummary } from './builds-service-schema';
import { fetchLimited, HttpStatusError } from './fetch-limited';
import type { FetchLike } from './fetch-limited';
import { imageFileTarget } from './solo5-abi-target';

const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface BuildsSourceOptions {
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** The part of the source the catalog uses; tests may stand in. */
export interface BuildsSource {
  resolve(job: BuildsJob, options?: { signal?: AbortSignal }): Promise<CatalogApp>;
}

type Imaged = BuildSummary & { main_binary: NonNullable<BuildSummary['main_binary']> };

/** Builds with an image, in the service's order (newest first). */
function withImages(builds: readonly BuildSummary[]): Imaged[] {
  return builds.filter((b): b is Imaged => Boolean(b.main_binary));
}

/**
 * A version for the image at `at` in the service's list (newest first): its place counted from
 * the job's first image, 0.0.N. builder-web gives no build times or numbers in its JSON, and it
 * keeps every image it made, so a later image always counts higher: an installed app sees the
 * next one as an update, and a rebuild that made the same image is none.
 */
export function imageVersion(images: number, at: number): string {
  return `0.0.${images - at}`;
}

function shortId(uuid: string): string {
  return uuid.slice(0, 8);
}

/** "What changed", in plain words, between the image offered and the one before it. */
export function describeChanges(
  host: string,
  chosen: BuildSummary,
  builds: readonly BuildSummary[],
  pinned: boolean,
): string {
  const images = withImages(builds);
  const at = images.findIndex((b) => b.uuid === chosen.uuid);
  const lines = [`Built by ${host} (build ${shortId(chosen.uuid)}).`];
  const before = at >= 0 ? images[at + 1] : undefined;
  lines.push(
    before
      ? `Its image differs from the one before it (build ${shortId(before.uuid)}): its source or the software it is built with changed. Rebuilds that made the same image are not listed again.`
      : 'It is the earliest image the service lists for this app.',
  );
  if (pinned) {
    const newer = at > 0 ? at : 0;
    lines.push(
      newer > 0
        ? `Hearth's catalog keeps this build; ${newer} newer build${newer === 1 ? '' : 's'} will be offered once the catalog vouches for ${newer === 1 ? 'it' : 'one'}.`
        : "Hearth's catalog keeps this build.",
    );
  }
  return lines.join('\n\n');
}

export class BuildsServiceSource implements BuildsSource {
  readonly #options: BuildsSourceOptions;

  constructor(options: BuildsSourceOptions = {}) {
    this.#options = options;
  }

  async resolve(entry: BuildsJob, options: { signal?: AbortSignal } = {}): Promise<CatalogApp> {
    const base = new URL(entry.builds.service).origin;
    const host = new URL(base).host;
    const job = entry.builds.job;
    const jobPath = `${base}/job/${encodeURIComponent(job)}`;
    const list = await this.#get(jobPath, jobSchema, host, options.signal, () =>
      buildRefused(entry.name, `${host} has no job called "${job}"`),
    );
    const images = withImages(list.builds);
    const pin = entry.builds.sha256;
    const at = pin ? images.findIndex((b) => b.main_binary.sha256 === pin) : 0;
    const build = images[at];
    if (!build)
      throw buildRefused(
        entry.name,
        pin
          ? `${host} has no build of the image Hearth's catalog vouches for`
          : `${host} has no successful build of it yet`,
      );
    const binary = build.main_binary;
    const { abi, target } = imageFileTarget(binary.filename, entry.builds.arch ?? 'x86_64');
    if (!target)
      throw buildRefused(
        entry.name,
        `it is built for Solo5 ${abi || 'an unknown target'}, which Hearth does not run`,
      );
    const app = {
      id: entry.id,
      name: entry.name,
      summary: entry.summary,
      description: entry.description,
      ...(entry.icon ? { icon: entry.icon } : {}),
      versions: [
        {
          version: imageVersion(images.length, at),
          artifacts: {
            [target]: {
              url: `${jobPath}/build/${build.uuid}/main-binary`,
              size: binary.size,
              sha256: binary.sha256,
            },
          },
          resources: entry.resources,
          releaseNotes: describeChanges(host, build, list.builds, pin !== undefined),
        },
      ],
    };
    const parsed = catalogAppSchema.safeParse(app);
    if (!parsed.success) throw buildsServiceGarbled(host, describeIssue(parsed.error));
    return parsed.data;
  }

  async #get<T>(
    url: string,
    schema: z.ZodType<T>,
    host: string,
    signal: AbortSignal | undefined,
    notFound: () => HearthError,
  ): Promise<T> {
    let bytes: Buffer;
    try {
      bytes = await fetchLimited(url, {
        fetch: this.#options.fetch,
        timeoutMs: this.#options.timeoutMs ?? 20_000,
        maxBytes: MAX_ANSWER_BYTES,
        signal,
        what: `the build list of ${host}`,
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      if (error instanceof HearthError && error.code === 'CANCELLED') throw error;
      const cause = error instanceof HearthError ? error.cause : undefined;
      if (cause instanceof HttpStatusError && cause.status === 404) throw notFound();
      // Refused by Hearth's own rules (too large, redirected somewhere not allowed): it answered.
      if (error instanceof HearthError && error.code === 'INVALID_INPUT')
        throw buildsServiceGarbled(host, `${url}: ${error.message}`);
      throw buildsServiceUnreachable(host, error);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw buildsServiceGarbled(host, `${url} is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw buildsServiceGarbled(host, `${url}: ${describeIssue(parsed.error)}`);
    return parsed.data;
  }
}
