import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// The digest check electron-updater runs on every download (its own dependency).
import { DigestTransform } from 'builder-util-runtime';
import type { UpdateInfo } from 'electron-updater';
import { afterEach, describe, expect, it } from 'vitest';
import { errorMessages } from '../../shared/errors';
import type { SelfUpdateNotice } from '../../shared/ipc';
import { silentLogger } from '../services/logger';
import { CHECK_EVERY_MS, FIRST_CHECK_MS, SelfUpdate } from './self-update';
import type { Updater } from './self-update';

const DAY = 24 * 60 * 60 * 1000;
const START = 1_000_000;

/** A release on the feed: its latest.yml entry and the bytes the download delivers. */
interface Release {
  version: string;
  notes?: string;
  published: Buffer;
  delivered: Buffer;
}

const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('base64');

/**
 * electron-updater as this module sees it: a check reads the feed, offers what is newer, and
 * downloads it through electron-updater's own sha512 check, emitting what the real one emits.
 */
class FakeUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  logger: unknown = console;
  feed: Release | null = null;
  offline = false;
  checks: number[] = [];
  installs = 0;
  downloads: Promise<void>[] = [];

  constructor(private readonly now: () => number) {
    super();
  }

  async checkForUpdates() {
    this.checks.push(this.now());
    if (this.offline) {
      const error = new Error('net::ERR_INTERNET_DISCONNECTED');
      this.emit('error', error);
      throw error;
    }
    const release = this.feed;
    if (!release) return null;
    const info = {
      version: release.version,
      releaseNotes: release.notes ?? null,
      files: [{ url: 'Hearth.AppImage', sha512: sha512(release.published) }],
      path: 'Hearth.AppImage',
      sha512: sha512(release.published),
      releaseDate: '2026-12-01T00:00:00.000Z',
    } satisfies UpdateInfo;
    this.emit('update-available', info);
    // Like electron-updater: the download's promise rejects as well as 'error' being emitted.
    const downloadPromise = pipeline(
      Readable.from([release.delivered]),
      new DigestTransform(info.sha512),
    ).then(
      () => {
        this.emit('update-downloaded', { ...info, downloadedFile: '/tmp/x' });
        return ['/tmp/x'];
      },
      (error: unknown) => {
        this.emit('error', error);
        throw error;
      },
    );
    this.downloads.push(
      downloadPromise.then(
        () => undefined,
        () => undefined,
      ),
    );
    return { isUpdateAvailable: true, updateInfo: info, versionInfo: info, downloadPromise };
  }

  quitAndInstall() {
    this.installs += 1;
  }
}

let now = START;
let self: SelfUpdate | undefined;
afterEach(() => {
  self?.stop();
  now = START;
});

function setUp(appWorkRunning = () => false) {
  const updater = new FakeUpdater(() => now);
  const notices: SelfUpdateNotice[] = [];
  const sleeps: number[] = [];
  let until = Infinity;
  let reached: () => void = () => undefined;
  self = new SelfUpdate({
    updater: updater as unknown as Updater,
    clock: { now: () => now },
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      if (now >= until) {
        self?.stop();
        reached();
      }
      await new Promise((r) => setImmediate(r));
    },
    log: silentLogger,
    appWorkRunning,
    notify: (notice) => notices.push(notice),
  });
  /** Runs the schedule until the clock reaches `time`; its sleeps make time pass at once. */
  const runUntil = (time: number) =>
    new Promise<void>((done) => {
      until = time;
      reached = done;
      self!.start();
    });
  return { updater, notices, sleeps, runUntil, self };
}

const release = (version: string, notes?: string): Release => {
  const bytes = Buffer.from(`Hearth ${version} installer`);
  return { version, published: bytes, delivered: bytes, ...(notes ? { notes } : {}) };
};

describe('SelfUpdate', () => {
  it('checks half a minute after start, then once a day', async () => {
    const { updater, runUntil } = setUp();
    expect(FIRST_CHECK_MS).toBe(30_000);
    expect(CHECK_EVERY_MS).toBe(DAY);
    await runUntil(START + 3 * DAY);
    expect(updater.checks).toEqual([
      START + 30_000,
      START + 30_000 + DAY,
      START + 30_000 + 2 * DAY,
    ]);
    // Downloads in the background, and installs on quit too.
    expect(updater.autoDownload).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(true);
  });

  it('says "ready" once per version, with the release notes, to the window and the tray', async () => {
    const { updater, notices, runUntil, self } = setUp();
    const tray: (string | undefined)[] = [];
    self.onChange((ready) => tray.push(ready?.version));
    updater.feed = release('0.3.0', 'Backups to a second device.');
    // Three daily checks find (and re-download from its cache) the same 0.3.0.
    await runUntil(START + 3 * DAY);
    expect(updater.checks).toHaveLength(3);
    expect(notices).toEqual([
      { state: 'ready', version: '0.3.0', notes: 'Backups to a second device.' },
    ]);
    expect(self.ready).toEqual(notices[0]);
    expect(tray).toEqual(['0.3.0']);
    // Nothing restarts by itself.
    expect(updater.installs).toBe(0);
  });

  it('refuses a download that does not match the feed, in one sentence, and keeps running', async () => {
    const { updater, notices, runUntil, self } = setUp();
    updater.feed = { ...release('0.3.0'), delivered: Buffer.from('Hearth 0.3.0 installeR') };
    await runUntil(START + 2 * DAY);
    expect(notices).toEqual([
      { state: 'failed', version: '0.3.0', message: errorMessages.SELF_UPDATE_FAILED },
    ]);
    expect(self.ready).toBeNull();
    expect(() => self.restart()).toThrow(
      expect.objectContaining({ code: 'SELF_UPDATE_NONE' }) as Error,
    );
    expect(updater.installs).toBe(0);
  });

  it('says nothing when a check cannot reach the feed', async () => {
    const { updater, notices, runUntil } = setUp();
    updater.offline = true;
    await runUntil(START + 2 * DAY);
    expect(updater.checks).toHaveLength(2);
    expect(notices).toEqual([]);
  });

  it('restarts when asked, but not while a backup, restore or app update is running', async () => {
    let working = true;
    const { updater, sleeps, self } = setUp(() => working);
    updater.feed = release('0.3.0');
    await self.check();
    await Promise.all(updater.downloads);
    expect(self.restart()).toBe(false);
    expect(self.restart()).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(sleeps.length).toBeGreaterThan(0);
    expect(updater.installs).toBe(0);
    working = false;
    await new Promise((r) => setTimeout(r, 20));
    // Once, when the work has finished.
    expect(updater.installs).toBe(1);
    expect(self.restart()).toBe(true);
    expect(updater.installs).toBe(2);
  });
});
