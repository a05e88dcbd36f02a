// "Install from a file" on a real lab device: the owner already has an app image (the lab's
// counter kernel, a plain multiboot kernel), picks it, describes what it needs in the form
// (one IDE volume, ready when its console says READY), and it runs under Hearth like a
// catalog app. Browser mode has no native file dialog: --choose-file stands for the pick.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildCounterKernels } from '../lab/counter-kernel';
import { expect, test as base } from '../support/browser-mode';
import { attachAppsReportOnFailure } from '../support/device-report';
import { preparePi } from '../support/wizard';

const test = base.extend<object, { kernel: string }>({
  kernel: [
    // Playwright reads a fixture's dependencies from its first parameter's pattern.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      await use((await buildCounterKernels())[1]);
    },
    { scope: 'worker', timeout: 5 * 60_000 },
  ],
});

test.use({ serveArgs: async ({ kernel }, use) => use(['--choose-file', kernel]) });

test.afterEach(({ lab }, testInfo) => attachAppsReportOnFailure(lab, testInfo));

test('the owner installs an image file they already have, and it runs and says READY', async ({
  page,
  lab,
  kernel,
}) => {
  test.setTimeout(8 * 60_000);
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await preparePi(page, lab, 'Workshop Pi');
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Apps' })
    .click();

  await page.getByRole('button', { name: 'Install from a file' }).click();
  const form = page.getByRole('region', { name: 'Install counter-v1.elf' });
  await expect(form).toContainText('A multiboot kernel for PCs (32-bit).');
  await expect(form.getByRole('combobox', { name: 'Device' })).toContainText('Workshop Pi');

  await form.getByRole('textbox', { name: 'App name' }).fill('Counter');
  await expect(form.getByRole('spinbutton', { name: 'Memory (MB)' })).toHaveValue('32');
  await form.getByRole('button', { name: 'Add a volume' }).click();
  await form.getByRole('textbox', { name: 'Name of volume 1' }).fill('disk');
  await form.getByRole('spinbutton', { name: 'Size of volume 1 (MB)' }).fill('1');
  // The counter kernel drives the first IDE disk (e2e/lab/README.md).
  await form.getByRole('combobox', { name: 'How it reaches its volumes' }).selectOption('ide');
  await form.getByRole('textbox', { name: 'Ready line' }).fill('READY');
  await form.getByRole('button', { name: 'Install Counter' }).click();

  const installed = page
    .getByRole('list', { name: 'Installed apps' })
    .getByRole('article', { name: 'Counter' });
  await expect(installed).toContainText('Running', { timeout: 180_000 });
  await expect(installed).toContainText('on Workshop Pi');
  await installed.getByRole('button', { name: 'Console of Counter' }).click();
  const console = page.getByRole('log', { name: 'Console of Counter' });
  await expect(console).toContainText('READY');
  await expect(console).toContainText('boot 1');

  // What the device runs is exactly the file that was chosen, with the form's resources.
  const sha256 = createHash('sha256').update(readFileSync(kernel)).digest('hex');
  const spec = JSON.parse(
    (await lab.exec('pi', ['cat', '/var/lib/hearth/apps/counter/spec.json'])).stdout,
  ) as Record<string, unknown>;
  expect(spec).toMatchObject({
    name: 'Counter',
    sha256,
    disk: 'ide',
    memoryMiB: 32,
    volumes: [{ name: 'disk', sizeMiB: 1 }],
    health: { kind: 'console', pattern: 'READY' },
  });
  expect(
    (await lab.exec('pi', ['test', '-f', '/var/lib/hearth/apps/counter/data/disk.img'])).code,
  ).toBe(0);
});
