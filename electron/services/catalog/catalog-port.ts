// The catalog as the apps service sees it (its AppCatalogPort in services/apps/
// app-ports.ts, matched structurally so catalog/ does not depend on apps/), and the
// catalog's apps in the shape the renderer shows (shared/model.ts CatalogApp).
import type { CatalogApp as CatalogAppView } from '../../../shared/model';
import type { ArtifactCache } from './artifact-cache';
import type { ArtifactRef } from './artifact-download';
import { noBuildForDevice } from './catalog-errors';
import { targetSchema, targets } from './catalog-schema';
import type { Target } from './catalog-schema';
import type { Artifact, Resources } from './catalog-schema';
import type { CatalogListing, CatalogService } from './catalog-service';
import { newestFirst } from './compare-versions';

export interface PortResolvedApp {
  origin: 'catalog';
  appId: string;
  name: string;
  version: string;
  target: Target;
  artifact: Omit<Artifact, 'disk'> & { disk: 'ide' | 'virtio' };
  resources: Resources;
}

export interface CatalogPort {
  resolve(appId: string, target: string): Promise<PortResolvedApp>;
  download(
    artifact: ArtifactRef,
    options: { signal: AbortSignal; onProgress: (done: number, total: number) => void },
  ): Promise<string>;
}

export function catalogPort(catalog: CatalogService, cache: ArtifactCache): CatalogPort {
  // The download only gets the artifact; remember whose it is so a mismatch can name
  // the app ("The download of Counter …").
  const names = new Map<string, string>();
  return {
    async resolve(appId, target) {
      const parsed = targetSchema.safeParse(target);
      if (!parsed.success) throw noBuildForDevice(appId, target);
      const r = await catalog.resolve({ appId, target: parsed.data });
      names.set(r.artifact.sha256, r.appName);
      if (r.artifact.initrd) names.set(r.artifact.initrd.sha256, r.appName);
      return {
        origin: 'catalog',
        appId: r.appId,
        name: r.appName,
        version: r.version,
        target: r.target,
        artifact: { ...r.artifact, disk: r.artifact.disk ?? 'virtio' },
        resources: r.resources,
      };
    },
    async download(artifact, options) {
      const label = names.get(artifact.sha256) ?? 'this app';
      return (await cache.get(artifact, { ...options, label })).path;
    },
  };
}

/** One card per app: its newest release, and every kind of device any version runs on. */
export function catalogAppViews(listing: CatalogListing): CatalogAppView[] {
  return listing.apps.map(({ catalog, app }) => {
    const newest = newestFirst(app.versions)[0];
    const kinds = new Set(app.versions.flatMap((v) => Object.keys(v.artifacts)));
    return {
      id: app.id,
      name: app.name,
      summary: app.summary,
      description: app.description,
      icon: app.icon ?? null,
      version: newest?.version ?? '',
      targets: targets.filter((t) => kinds.has(t)),
      catalogName: catalog.name,
      ...(newest?.releaseNotes ? { changes: newest.releaseNotes } : {}),
    };
  });
}
