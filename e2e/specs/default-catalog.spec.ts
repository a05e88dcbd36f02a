// A fresh install's Apps view shows the apps of Hearth's own catalog, resolved through a local
// stand-in for the reproducible-build service (never the live builds.robur.coop): each job's
// newest build, and, in its details, what changed since the build before. The shipped index is
// served with its jobs pointed at the stand-in, so it is signed again with a test key.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, stopProcess, test as base } from '../support/browser-mode';
import type { CatalogIndex } from '../../electron/services/catalog/catalog-schema';

interface BuildsServer {
  catalogUrl: string;
  trustedKey: string;
}

const index = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '..', '..', 'resources', 'catalog', 'default.index.json'),
    'utf8',
  ),
) as CatalogIndex;

const test = base.extend<object, { builds: BuildsServer }>({
  builds: [
    async ({ lab }, use) => {
      const argv = lab.laptopArgv([
        process.execPath,
        '--import',
        'tsx',
        join(import.meta.dirname, '..', 'support', 'builds-service-server.ts'),
      ]);
      const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const started = await new Promise<BuildsServer>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (line) =>
          resolve(JSON.parse(line) as BuildsServer),
        );
        child.once('exit', () => reject(new Error('the builds-service stand-in did not start')));
      });
      await use(started);
      await stopProcess(child);
    },
    { scope: 'worker' },
  ],
});

test.use({
  serveArgs: async ({ builds }, use) =>
    use(['--catalog', builds.catalogUrl, '--trust-catalog-key', builds.trustedKey]),
});

test("a fresh install lists the default catalog's apps, each with its newest build and what changed", async ({
  page,
}) => {
  const jobs = index.jobs ?? [];
  expect(jobs.length, 'the shipped index lists builds-service jobs').toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Apps' })
    .click();
  const available = page.getByRole('list', { name: 'Available apps' });
  for (const job of jobs) {
    const card = available.getByRole('article', { name: job.name, exact: true });
    await expect(card).toBeVisible({ timeout: 30_000 });
    await expect(card).toContainText(job.summary);
    await card.getByRole('button', { name: `Show details of ${job.name}` }).click();
    // The newest of the stand-in's two images (the job's second), from Hearth's catalog.
    await expect(card).toContainText(`Version 0.0.2 · from ${index.name}`);
    await expect(card.getByRole('heading', { name: 'What changed' })).toBeVisible();
    await expect(card).toContainText('(build 0b0b0b0b)');
    await expect(card).toContainText('Its image differs from the one before it (build 0a0a0a0a)');
  }
  await expect(page.getByRole('heading', { name: 'No apps available yet' })).toBeHidden();
});
