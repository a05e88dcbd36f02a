import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { CatalogRefreshSchedule, DEFAULT_CATALOG_REFRESH_MS } from './catalog-refresh-schedule';

const HOUR = 3_600_000;

describe('CatalogRefreshSchedule', () => {
  let dir: string;
  let store: AtomicJsonStore;
  let now: number;
  let checks: number[];
  let schedule: CatalogRefreshSchedule | null;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-schedule-'));
    store = new AtomicJsonStore(join(dir, 'state'));
    now = 1_000_000;
    checks = [];
    schedule = null;
  });
  afterEach(async () => {
    schedule?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the schedule until the clock reaches `until`; its sleeps make time pass at once. */
  async function runUntil(until: number, failing = false): Promise<void> {
    await new Promise<void>((done) => {
      schedule = new CatalogRefreshSchedule({
        check: () => {
          checks.push(now);
          return failing ? Promise.reject(new Error('offline')) : Promise.resolve();
        },
        store,
        clock: { now: () => now },
        sleep: async (ms) => {
          now += ms;
          if (now >= until) {
            schedule?.stop();
            done();
          }
          await new Promise((r) => setImmediate(r));
        },
        log: silentLogger,
      });
      schedule.start();
    });
  }

  it('reads the catalogs at once the first time, then every six hours', async () => {
    expect(DEFAULT_CATALOG_REFRESH_MS).toBe(6 * HOUR);
    await runUntil(1_000_000 + 13 * HOUR);
    expect(checks).toEqual([1_000_000, 1_000_000 + 6 * HOUR, 1_000_000 + 12 * HOUR]);
  });

  it('remembers when it last read them across a restart, and keeps going when a read fails', async () => {
    await runUntil(1_000_000 + 1 * HOUR, true);
    expect(checks).toEqual([1_000_000]);
    // Hearth restarts two hours later: the next read is still due at six hours, not now.
    now = 1_000_000 + 2 * HOUR;
    checks = [];
    await runUntil(1_000_000 + 7 * HOUR);
    expect(checks).toEqual([1_000_000 + 6 * HOUR]);
  });
});
