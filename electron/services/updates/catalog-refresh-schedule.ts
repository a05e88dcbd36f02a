// Re-reads the catalogs every few hours while Hearth is open (6 h by default). When they were last
// read is kept on disk, so restarting Hearth neither re-reads them at once every time nor puts the
// next read off: a read missed while the laptop was closed happens as soon as it opens.
import { z } from 'zod';
import type { Clock, Sleep } from '../clock';
import type { Logger } from '../logger';
import type { AtomicJsonStore } from '../store/atomic-json-store';
import { BackgroundLoop } from '../tasks/background-loop';

export const DEFAULT_CATALOG_REFRESH_MS = 6 * 60 * 60 * 1000;
const DOC = 'catalog-checks';
const docSchema = z.object({ checkedAt: z.number().nullable() });

export interface CatalogRefreshScheduleDeps {
  /** Reads every catalog again (and whatever follows from it: offers, automatic updates). */
  check: () => Promise<unknown>;
  store: AtomicJsonStore;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  everyMs?: number;
}

export class CatalogRefreshSchedule {
  readonly #deps: CatalogRefreshScheduleDeps;
  readonly #every: number;
  readonly #background = new BackgroundLoop((signal) => this.#loop(signal));
  #checkedAt: number | null | undefined = undefined;

  constructor(deps: CatalogRefreshScheduleDeps) {
    this.#deps = deps;
    this.#every = Math.max(1, deps.everyMs ?? DEFAULT_CATALOG_REFRESH_MS);
  }

  start(): void {
    this.#background.start();
  }

  stop(): void {
    this.#background.stop();
  }

  /** How long until the next read is due (0 or less: now). */
  async untilDue(): Promise<number> {
    if (this.#checkedAt === undefined) {
      const { value } = await this.#deps.store
        .load(DOC, docSchema, () => ({ checkedAt: null }))
        .catch(() => ({ value: { checkedAt: null } }));
      this.#checkedAt ??= value.checkedAt;
    }
    if (this.#checkedAt === null) return 0;
    return this.#checkedAt + this.#every - this.#deps.clock.now();
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const { clock, log, sleep, store } = this.#deps;
    while (!signal.aborted) {
      const wait = await this.untilDue();
      if (wait > 0) {
        // Looked at again at least every interval: the clock may jump (the laptop slept).
        await sleep(Math.min(wait, this.#every), signal);
        continue;
      }
      if (signal.aborted) return;
      // Kept in memory first: a disk that cannot save must not make this loop spin.
      this.#checkedAt = clock.now();
      await this.#deps
        .check()
        .catch((error: unknown) =>
          log.warn({ err: error }, 'the catalogs could not be read again'),
        );
      await store
        .save(DOC, { checkedAt: this.#checkedAt })
        .catch((error: unknown) =>
          log.warn({ err: error }, 'when catalogs were read was not saved'),
        );
    }
  }
}
