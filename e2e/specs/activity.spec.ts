import type { Page } from '@playwright/test';
import { expect, test } from '../support/browser-mode';

async function startCheck(page: Page) {
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Activity' })
    .click();
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeVisible();
  await page.getByRole('button', { name: 'Check this computer' }).click();
  return page.getByRole('article', { name: 'Check this computer' });
}

test('a real task shows its progress climbing to 100% and its outcome', async ({ page }) => {
  const task = await startCheck(page);
  const bar = task.getByRole('progressbar', { name: 'Check this computer' });
  await expect(task.getByText('Running')).toBeVisible();
  const seen = new Set<number>();
  await expect
    .poll(
      async () => {
        const now = Number(await bar.getAttribute('aria-valuenow'));
        seen.add(now);
        return now;
      },
      { timeout: 20_000, intervals: [100] },
    )
    .toBe(100);
  expect([...seen].some((v) => v > 0 && v < 100)).toBe(true);
  await expect(task.getByText('Finished', { exact: true })).toBeVisible();
  const steps = task.getByRole('list', { name: 'Steps of Check this computer' });
  await expect(
    steps.getByRole('listitem').filter({ hasText: 'Hearth can save its settings' }),
  ).toContainText('Done');
  await expect(
    steps.getByRole('listitem').filter({ hasText: 'This computer is on a network' }),
  ).toContainText('Done');
  await expect(page.getByRole('status')).toContainText('Check this computer finished');
  await expect(task.getByRole('button', { name: 'Cancel Check this computer' })).toHaveCount(0);
});

test.describe('with a long listen', () => {
  test.use({ checkListenMs: 60_000 });

  test('the owner cancels a running task and it stops', async ({ page }) => {
    const task = await startCheck(page);
    // On the lab's LAN a device may answer before the first look is shown.
    await expect(
      task.getByText(
        /Listening for devices that announce themselves|Heard from \d+ devices? so far/,
      ),
    ).toBeVisible();
    await task.getByRole('button', { name: 'Cancel Check this computer' }).click();
    await expect(task.getByText('Cancelled', { exact: true }).first()).toBeVisible({
      timeout: 5_000,
    });
    await expect(
      task.getByRole('listitem').filter({ hasText: 'Listening for home devices' }),
    ).toContainText('Skipped');
    await expect(page.getByRole('status')).toContainText('Check this computer was cancelled');
    const after = await task.getByRole('progressbar').getAttribute('aria-valuenow');
    await page.waitForTimeout(1_000);
    expect(await task.getByRole('progressbar').getAttribute('aria-valuenow')).toBe(after);

    await page.getByRole('button', { name: 'Clear finished' }).click();
    await expect(page.getByRole('heading', { name: 'Nothing happening right now' })).toBeVisible();
  });
});
