// Browser-mode tests with the lab's signed test catalog (Counter, Crasher, Visit counter)
// served for the whole worker, for the specs that install apps.
import { test as base } from './browser-mode';
import { startTestCatalog } from './test-catalog';
import type { TestCatalog } from './test-catalog';

export const test = base.extend<object, { catalog: TestCatalog }>({
  catalog: [
    async ({ lab }, use) => {
      const catalog = await startTestCatalog(lab);
      await use(catalog);
      await catalog.stop();
    },
    { scope: 'worker', timeout: 5 * 60_000 },
  ],
});

/** Browser mode's flags that add the worker's test catalog and trust the key that signed it. */
export function catalogArgs(catalog: TestCatalog): string[] {
  return ['--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey];
}
