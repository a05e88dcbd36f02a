// Whether an installed app has a newer version to move to: the build an install would choose for
// its device now (the same catalog resolve, the same device target), when that is newer than what
// runs. Apps installed from a file have no catalog and so never an offer.
import { HearthError } from '../../../shared/errors';
import type { DeviceRecord, UpdateOffer } from '../../../shared/model';
import { targetOf } from '../apps/app-installer';
import { targetSchema, versionSchema } from '../catalog/catalog-schema';
import type { CatalogService } from '../catalog/catalog-service';
import { compareVersions } from '../catalog/compare-versions';

export type OfferCatalog = Pick<CatalogService, 'resolve'>;

export interface Found {
  offer: UpdateOffer | null;
  /** The catalog the app would be updated from (its problems concern the owner); null if none. */
  catalogId: string | null;
}

const none: Found = { offer: null, catalogId: null };

export async function findOffer(
  catalog: OfferCatalog,
  device: DeviceRecord,
  installed: { appId: string; version: string; target?: string },
): Promise<Found> {
  // A file install's version reads "file 3f2a…": it is no catalog version.
  if (!versionSchema.safeParse(installed.version).success) return none;
  let target;
  try {
    // The build it runs now: an update keeps its runtime (the transaction resolves the same
    // target), also on a device that has since gained a Solo5 tender.
    target = targetSchema.safeParse(installed.target ?? targetOf(device));
  } catch {
    return none;
  }
  if (!target.success) return none;
  try {
    const newest = await catalog.resolve({ appId: installed.appId, target: target.data });
    const newer = compareVersions(newest.version, installed.version) > 0;
    return {
      offer: newer ? { version: newest.version, releaseNotes: newest.releaseNotes } : null,
      catalogId: newest.catalog.id,
    };
  } catch (error) {
    // No catalog offers the app any more, or none has a build for this device: nothing to offer.
    if (error instanceof HearthError && error.code === 'NOT_FOUND') return none;
    throw error;
  }
}
