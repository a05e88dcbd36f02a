// A catalog file in, a trusted and well-formed index out: the only way the rest of
// Hearth gets a catalog.
import { catalogRejected, catalogTooNew } from './catalog-errors';
import { catalogIndexSchema, describeIssue, INDEX_FORMAT } from './catalog-schema';
import type { CatalogIndex } from './catalog-schema';
import { verifyCatalogFile } from './catalog-signature';
import type { TrustedKeySet } from './catalog-signature';

/** Checks an already verified index against the schema. */
export function parseCatalogIndex(index: unknown): CatalogIndex {
  const format = (index as { format?: unknown } | null)?.format;
  // hearth-catalog/2 and later: say "update Hearth" rather than "damaged".
  if (typeof format === 'string' && format !== INDEX_FORMAT && format.startsWith('hearth-catalog/'))
    throw catalogTooNew();
  const parsed = catalogIndexSchema.safeParse(index);
  if (!parsed.success) throw catalogRejected(describeIssue(parsed.error));
  return parsed.data;
}

export function readCatalog(
  file: Uint8Array | string,
  trusted: TrustedKeySet,
  options: { maxBytes?: number } = {},
): CatalogIndex {
  return parseCatalogIndex(verifyCatalogFile(file, trusted, options));
}
