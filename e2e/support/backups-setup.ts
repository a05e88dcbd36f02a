// The Backups view's first use, as an owner goes through it: where the backups go, then the
// recovery kit saved and kept. Shared by the specs that need the backups set up.
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect } from './browser-mode';

/** A click on one of the main navigation's views. */
export const nav = (page: Page, view: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: view }).click();

/** Backups view: the folder is typed (a browser has no folder picker), then the kit is kept. */
export async function setUpBackups(
  page: Page,
  folder: string,
): Promise<{ password: string; kitPath: string }> {
  await nav(page, 'Backups');
  await expect(page.getByRole('heading', { name: 'Set up backups' })).toBeVisible();
  await page.getByRole('button', { name: /^Choose (the|another) folder…$/ }).click();
  await page.getByRole('textbox', { name: 'Where backups go' }).fill(folder);
  await page.getByRole('button', { name: 'Set up backups' }).click();
  await expect(page.getByRole('heading', { name: 'Your recovery kit' })).toBeVisible({
    timeout: 30_000,
  });
  await page.getByRole('button', { name: 'Save as a file…' }).click();
  const saved = page.getByText(/^Saved to /);
  await expect(saved).toBeVisible();
  const kitPath = ((await saved.locator('.repository').textContent()) ?? '').trim();
  expect(existsSync(kitPath)).toBe(true);
  const html = readFileSync(kitPath, 'utf8');
  const password = /([A-Za-z0-9]{4,}(?:-[A-Za-z0-9]{4,}){3,})/.exec(html)?.[1] ?? '';
  expect(password.length).toBeGreaterThan(20);
  expect(html).toContain(folder);
  // Nothing runs before the owner says they kept the kit.
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'I have kept my recovery kit' }).click();
  return { password, kitPath };
}
