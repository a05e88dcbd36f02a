// The render row of `npm run bench` (no lab needed): the real window (App.svelte over the
// component tests' FakeHearth, renderer/src/test-support/apps-render-bench.ts) built with the
// renderer's own Vite and Svelte settings, served on 127.0.0.1 and opened in the Chromium the
// e2e specs use. With 50 devices × 20 apps on the Apps view, it times the frame in which one
// app's status change is shown, against the same page's idle frame, alternating the two.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { chromium } from 'playwright-core';
import sirv from 'sirv';
import { build } from 'vite';
import { chromiumPath } from '../e2e/playwright.config';
import type { AppsRenderBench, FrameTiming } from '../renderer/src/test-support/apps-render-timing';

export interface AppsRender {
  cards: number;
  changes: FrameTiming[];
  idle: FrameTiming[];
}

/** The page's window, as the functions run in it see it. */
type BenchPage = { hearthBench: AppsRenderBench };

const renderer = join(import.meta.dirname, '..', 'renderer');
const page = 'src/test-support/apps-render-bench.html';

export async function measureAppsRender(o: {
  changes: number;
  say: (line: string) => void;
}): Promise<AppsRender> {
  const outDir = mkdtempSync(join(tmpdir(), 'hearth-bench-render-'));
  // sirv lists the folder once: it is made after the build.
  let server = createServer();
  const browser = await (async () => {
    await build({
      configFile: false,
      root: renderer,
      base: './',
      logLevel: 'error',
      plugins: [svelte({ configFile: join(renderer, 'svelte.config.js') })],
      build: { outDir, emptyOutDir: true, rollupOptions: { input: join(renderer, page) } },
    });
    server = createServer(sirv(outDir));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // As e2e/playwright.config.ts launches it.
    return chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  })();
  try {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    const { port } = server.address() as AddressInfo;
    await tab.goto(`http://127.0.0.1:${port}/${page}`);
    await tab.getByRole('button', { name: 'Apps', exact: true }).click();
    await tab.waitForFunction(() => (globalThis as unknown as BenchPage).hearthBench.cards() > 0);
    const cards = await tab.evaluate(() =>
      (globalThis as unknown as BenchPage).hearthBench.cards(),
    );
    // A few frames first: the first ones after the view opened still lay the page out.
    for (let i = 0; i < 5; i++)
      await tab.evaluate(() => (globalThis as unknown as BenchPage).hearthBench.idle());
    const changes: FrameTiming[] = [];
    const idle: FrameTiming[] = [];
    for (let i = 0; i < o.changes; i++) {
      // A different app each time, spread over the list (97 and 1000 share no factor).
      const index = (i * 97) % cards;
      changes.push(
        await tab.evaluate(
          (n) => (globalThis as unknown as BenchPage).hearthBench.change(n),
          index,
        ),
      );
      idle.push(await tab.evaluate(() => (globalThis as unknown as BenchPage).hearthBench.idle()));
    }
    if (errors.length) throw new Error(`the bench page failed: ${errors.join('; ')}`);
    const unseen = changes.filter((c) => !c.shown).length;
    if (unseen) throw new Error(`${unseen} of ${changes.length} changes were not on the frame`);
    o.say(`${cards} cards; ${changes.length} changes`);
    return { cards, changes, idle };
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(outDir, { recursive: true, force: true });
  }
}
