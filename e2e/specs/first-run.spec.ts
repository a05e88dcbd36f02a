import { expect, test } from '../support/browser-mode';
import { hearthApiKeys } from '../../shared/hearth-api';

test('a new owner is welcomed, starts device setup, and can explore the app instead', async ({
  page,
  hearth,
}) => {
  await expect(page.getByRole('heading', { name: 'Welcome to Hearth' })).toBeVisible();
  await page.getByRole('button', { name: 'Add your first device' }).click();
  await expect(page.getByRole('heading', { name: 'Find your device' })).toBeFocused();
  await page.getByRole('button', { name: 'Explore Hearth' }).click();

  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('button', { name: 'Devices' })).toHaveAttribute(
    'aria-current',
    'page',
  );
  await expect(page.getByRole('heading', { name: 'No devices yet' })).toBeVisible();
  for (const [view, empty] of [
    ['Apps', 'No apps available yet'],
    ['Backups', 'Set up backups'],
    ['Activity', 'Nothing happening right now'],
  ] as const) {
    await nav.getByRole('button', { name: view, exact: true }).click();
    await expect(page.getByRole('heading', { name: empty })).toBeVisible();
  }

  // The welcome is done for good: not after a reload, not after the services restart.
  await page.reload();
  await expect(nav).toBeVisible();
  await hearth.restart();
  await page.goto(hearth.url);
  await expect(nav).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Welcome to Hearth' })).toHaveCount(0);
});

test('the app works from the keyboard alone', async ({ page }) => {
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  await expect(page.getByRole('heading', { name: 'No devices yet' })).toBeVisible();
  // As when Hearth is opened again: focus starts at the top of the page.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'No devices yet' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#content')).toBeInViewport();
  await page.reload();
  await expect(page.getByRole('heading', { name: 'No devices yet' })).toBeVisible();
  await page.keyboard.press('Tab');
  // Devices, Apps, Backups, Activity follow in order.
  for (const name of ['Devices', 'Apps', 'Backups', 'Activity']) {
    await page.keyboard.press('Tab');
    await expect(
      page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true }),
    ).toBeFocused();
  }
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Activity' })).toBeFocused();
});

test('the appearance follows the owner’s choice and survives a reload', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Explore Hearth' }).click();
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page
    .getByRole('group', { name: 'Appearance' })
    .getByRole('radio', { name: 'Dark' })
    .check();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByRole('radio', { name: 'Dark' })).toBeChecked();
});

test('the page runs under a strict CSP and reaches the app only through window.hearth', async ({
  page,
}) => {
  const blocked: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) blocked.push(message.text());
  });
  const response = await page.reload();
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(page.getByRole('heading', { name: 'Welcome to Hearth' })).toBeVisible();
  expect(blocked).toEqual([]);
  // An inline script, as an injected one would be, does not run.
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.append(script);
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
  expect(await page.evaluate(() => Object.keys(window.hearth).sort())).toEqual(hearthApiKeys);
});
