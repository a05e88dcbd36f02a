// For the default-catalog spec: a local stand-in for builds.robur.coop that answers builder-web's
// JSON with two builds of every job in Hearth's shipped index (resources/catalog/default.index.json),
// and serves that same index beside it, pointed at this server and signed with a throwaway key.
// The images are placeholders: the spec only lists the apps. Run on the lab's laptop side;
// prints {"port", "catalogUrl", "trustedKey"} when ready.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBuildsFixture } from '../../electron/services/catalog/builds-fixture';
import type { FixtureBuild } from '../../electron/services/catalog/builds-fixture';
import type { CatalogIndex } from '../../electron/services/catalog/catalog-schema';
import { makeTestKey, signedText } from '../../electron/services/catalog/test-catalog';

const source = join(import.meta.dirname, '..', '..', 'resources', 'catalog', 'default.index.json');
const index = JSON.parse(readFileSync(source, 'utf8')) as CatalogIndex;

/** The builds the spec expects for each job: an older one, and the newest with another image. */
export const fixtureBuilds = (job: string): FixtureBuild[] => [
  {
    uuid: '0a0a0a0a-0000-4000-8000-000000000001',
    start: '2026-11-20T08:00:00-00:00',
    image: Buffer.from(`placeholder ${job} image, first build`),
    abi: 'hvt',
  },
  {
    uuid: '0b0b0b0b-0000-4000-8000-000000000002',
    start: '2026-11-27T09:05:03-00:00',
    image: Buffer.from(`placeholder ${job} image, second build`),
    abi: 'hvt',
  },
];

const jobs = index.jobs ?? [];
const fixture = await startBuildsFixture(
  Object.fromEntries(jobs.map((j) => [j.builds.job, fixtureBuilds(j.builds.job)])),
);
const key = makeTestKey();
const local: CatalogIndex = {
  ...index,
  jobs: jobs.map((j) => ({ ...j, builds: { ...j.builds, service: fixture.origin } })),
};
fixture.raw.set('/catalog.json', signedText(local, key));
console.log(
  JSON.stringify({
    port: Number(new URL(fixture.origin).port),
    catalogUrl: `${fixture.origin}/catalog.json`,
    trustedKey: `${key.trusted.keyId}=${key.trusted.publicKey}`,
  }),
);
process.on('SIGTERM', () => void fixture.close().then(() => process.exit(0)));
