// Where the catalog Hearth ships lives, and which publisher keys it pins: both in
// resources/catalog/, read by the composition root.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trustedKeysFileSchema } from './catalog-signature';
import type { TrustedKey } from './catalog-signature';

export interface BundledCatalog {
  defaultCatalogPath: string;
  trustedKeys: TrustedKey[];
}

/** `resourcesDir` is the folder holding catalog/ (the repo's resources/ in development). */
export async function loadBundledCatalog(resourcesDir: string): Promise<BundledCatalog> {
  const dir = join(resourcesDir, 'catalog');
  const text = await readFile(join(dir, 'trusted-keys.json'), 'utf8');
  const file = trustedKeysFileSchema.parse(JSON.parse(text));
  return {
    defaultCatalogPath: join(dir, 'default.json'),
    trustedKeys: file.keys.map(({ keyId, publicKey }) => ({ keyId, publicKey })),
  };
}
