// Finding updates, on a real lab device with the signed test catalog: after Counter 1.0.0 is
// installed, the catalog publishes 2.0.0 with release notes and "Check for updates" shows it on
// Counter's card; then the server replays the older signed index, and Hearth refuses it in a
// plain sentence while the offer from its newer copy stays, across a restart of Hearth too.
// (The update itself is the transaction's spec: nothing here presses "Update to".)
import { expect } from '../support/browser-mode';
import { test } from '../support/catalog-test';
import { attachAppsReportOnFailure } from '../support/device-report';
import { installFromCatalog, preparePi } from '../support/wizard';
import { removeAppFromDevice } from '../support/device-apps';

test.afterEach(({ lab }, testInfo) => attachAppsReportOnFailure(lab, testInfo));
// The catalog server is shared by the worker: the specs after this one get the usual index.
test.afterEach(({ catalog }) => catalog.restore());

test.use({
  serveArgs: async ({ catalog }, use) =>
    use(['--catalog', catalog.url, '--trust-catalog-key', catalog.trustedKey]),
});

const notes = 'Counts its starts twice as carefully.\nKeeps the count it had.';
const refusal =
  'The app catalog "Lab apps" sent an older copy of itself than the one Hearth already has, so Hearth refused it and keeps using its own copy.';

test('a newer Counter shows on its card with its release notes; a replayed older catalog is refused and the offer stays', async ({
  page,
  lab,
  catalog,
  hearth,
}) => {
  test.setTimeout(8 * 60_000);
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await removeAppFromDevice(lab, 'pi', 'counter');
  await preparePi(page, lab, 'Updates Pi');
  const card = await installFromCatalog(page, 'Counter');
  await expect(card).toContainText('Running', { timeout: 180_000 });
  const check = page.getByRole('button', { name: 'Check for updates' });

  await test.step('nothing newer yet: the check says so', async () => {
    await check.click();
    await expect(page.getByRole('status').filter({ hasText: 'up to date' })).toBeVisible({
      timeout: 30_000,
    });
    await expect(card).not.toContainText('Update available');
  });

  await test.step('the catalog publishes 2.0.0: the card offers it, with its notes', async () => {
    const older = catalog.original;
    catalog.publish([
      { version: '1.0.0', kernel: 1 },
      { version: '2.0.0', kernel: 2, releaseNotes: notes },
    ]);
    await check.click();
    await expect(card.getByText('Update available: Counter 2.0.0')).toBeVisible({
      timeout: 30_000,
    });
    await expect(
      page.getByRole('status').filter({ hasText: 'One app can be updated.' }),
    ).toBeVisible();
    const notesText = card.getByText('Counts its starts twice as carefully.');
    await expect(notesText).toBeHidden();
    await card.getByRole('button', { name: 'What’s new in 2.0.0' }).click();
    await expect(notesText).toBeVisible();
    await expect(notesText).toContainText('Keeps the count it had.');
    await expect(card.getByRole('button', { name: 'Update to 2.0.0' })).toBeEnabled();
    await expect(card.getByRole('checkbox', { name: 'Update automatically' })).not.toBeChecked();

    // The server goes back to the older signed index (a stale mirror, or an attacker's replay).
    catalog.serve(older);
  });

  await test.step('a check refuses the replayed older copy in words; the offer stays', async () => {
    await check.click();
    await expect(page.getByRole('status').filter({ hasText: refusal })).toBeVisible({
      timeout: 30_000,
    });
    await expect(card).toContainText(refusal);
    await expect(card.getByText('Update available: Counter 2.0.0')).toBeVisible();
  });

  await test.step('after Hearth restarts, the refusal and the offer are still there', async () => {
    await hearth.restart();
    await page.goto(hearth.url);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: 'Apps' })
      .click();
    const again = page
      .getByRole('list', { name: 'Installed apps' })
      .getByRole('article', { name: 'Counter', exact: true });
    await expect(again.getByText('Update available: Counter 2.0.0')).toBeVisible({
      timeout: 60_000,
    });
    await expect(again).toContainText(refusal);
    // Still refused when asked again: what was seen is remembered, not only in memory.
    await page.getByRole('button', { name: 'Check for updates' }).click();
    await expect(page.getByRole('status').filter({ hasText: refusal })).toBeVisible({
      timeout: 30_000,
    });
    await expect(again.getByText('Update available: Counter 2.0.0')).toBeVisible();
  });
});
