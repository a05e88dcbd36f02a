// Hearth updating itself with electron-updater (injected, so this runs in tests without
// Electron): a check shortly after start and then daily, the download in the background,
// "Hearth 0.3 is ready — restart to update" told once per version, and a restart only when
// the owner asks and no backup, restore or update of an app is running. electron-updater
// checks each download's sha512 against the feed's latest*.yml (and, on Windows, the
// installer's signature) before it says "downloaded"; one that fails is an 'error' here,
// told in one sentence, and the running Hearth is left as it is.
import type { AppUpdater, UpdateInfo } from 'electron-updater';
import { errorMessages, HearthError } from '../../shared/errors';
import type { SelfUpdateNotice } from '../../shared/ipc';
import type { Clock, Sleep } from '../services/clock';
import type { Logger } from '../services/logger';
import { BackgroundLoop } from '../services/tasks/background-loop';

/** The part of electron-updater's AppUpdater this uses. */
export type Updater = Pick<
  AppUpdater,
  'on' | 'checkForUpdates' | 'quitAndInstall' | 'autoDownload' | 'autoInstallOnAppQuit' | 'logger'
>;

export const FIRST_CHECK_MS = 30_000;
export const CHECK_EVERY_MS = 24 * 60 * 60 * 1000;
/** How often a restart that waits for app work looks again. */
export const RESTART_POLL_MS = 5_000;

export type SelfUpdateReady = Extract<SelfUpdateNotice, { state: 'ready' }>;

export interface SelfUpdateDeps {
  updater: Updater;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  /** True while a backup, restore, drill or update of an app holds its lock. */
  appWorkRunning: () => boolean;
  /** Tells the window (an IPC event); the tray listens through onChange. */
  notify: (notice: SelfUpdateNotice) => void;
  firstCheckMs?: number;
  everyMs?: number;
}

/** Release notes as plain text: the feed may carry a string or one note per version. */
function notesOf(info: UpdateInfo): string | null {
  const notes = info.releaseNotes;
  if (!notes) return null;
  if (typeof notes === 'string') return notes;
  return notes.map((n) => n.note ?? '').join('\n\n') || null;
}

export class SelfUpdate {
  readonly #deps: SelfUpdateDeps;
  readonly #background = new BackgroundLoop((signal) => this.#loop(signal));
  readonly #listeners = new Set<(ready: SelfUpdateReady | null) => void>();
  #ready: SelfUpdateReady | null = null;
  /** The version being downloaded: an error until it is downloaded is a failed download. */
  #downloading: string | null = null;
  #failedTold: string | null = null;
  #restarting = false;

  constructor(deps: SelfUpdateDeps) {
    this.#deps = deps;
    const { updater } = deps;
    // Its own lines (what it fetched, why a differential download fell back) go to Hearth's log.
    const log = deps.log.child({ component: 'electron-updater' });
    updater.logger = {
      info: (message: unknown) => log.info(String(message)),
      warn: (message: unknown) => log.warn(String(message)),
      error: (message: unknown) => log.error(String(message)),
      debug: (message: string) => log.debug(message),
    };
    updater.autoDownload = true;
    // A downloaded update also goes in when the owner quits Hearth themselves.
    updater.autoInstallOnAppQuit = true;
    updater.on('update-available', (info) => {
      if (info.version !== this.#ready?.version) this.#downloading = info.version;
    });
    updater.on('update-downloaded', (info) => this.#downloaded(info));
    updater.on('error', (error) => this.#failed(error));
  }

  /** The update waiting for a restart, for the tray ("Restart to update"). */
  get ready(): SelfUpdateReady | null {
    return this.#ready;
  }

  /** Called whenever `ready` changes; returns the unsubscribe function. */
  onChange(listener: (ready: SelfUpdateReady | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#background.start();
  }

  stop(): void {
    this.#background.stop();
  }

  /**
   * Restarts into the downloaded update now, or once the app work running now has finished
   * (false). Never restarts in the middle of a backup, restore or app update.
   */
  restart(): boolean {
    if (!this.#ready) throw new HearthError('SELF_UPDATE_NONE');
    if (!this.#deps.appWorkRunning()) {
      this.#deps.updater.quitAndInstall();
      return true;
    }
    if (!this.#restarting) {
      this.#restarting = true;
      void this.#restartWhenIdle();
    }
    return false;
  }

  async #restartWhenIdle(): Promise<void> {
    const { appWorkRunning, sleep, updater, log } = this.#deps;
    while (appWorkRunning()) await sleep(RESTART_POLL_MS);
    log.info({ version: this.#ready?.version }, 'restarting into the Hearth update');
    updater.quitAndInstall();
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const { clock, sleep } = this.#deps;
    const every = Math.max(1, this.#deps.everyMs ?? CHECK_EVERY_MS);
    // Not at once: starting Hearth (devices, catalogs) comes first.
    let due = clock.now() + (this.#deps.firstCheckMs ?? FIRST_CHECK_MS);
    while (!signal.aborted) {
      const wait = due - clock.now();
      if (wait > 0) {
        // Looked at again at least hourly: the clock jumps when the laptop sleeps.
        await sleep(Math.min(wait, 60 * 60 * 1000), signal);
        continue;
      }
      due = clock.now() + every;
      await this.check();
    }
  }

  /** One check and the download it starts; the 'error' event says what the owner hears. */
  async check(): Promise<void> {
    const { log, updater } = this.#deps;
    try {
      const result = await updater.checkForUpdates();
      await result?.downloadPromise;
    } catch (error) {
      log.warn({ err: error }, 'Hearth could not check for or download its own update');
    }
  }

  #downloaded(info: UpdateInfo): void {
    this.#downloading = null;
    if (this.#ready?.version === info.version) return;
    this.#ready = { state: 'ready', version: info.version, notes: notesOf(info) };
    this.#deps.log.info({ version: info.version }, 'a Hearth update is ready');
    this.#deps.notify(this.#ready);
    for (const listener of this.#listeners) listener(this.#ready);
  }

  #failed(error: Error): void {
    const version = this.#downloading;
    this.#downloading = null;
    this.#deps.log.warn({ err: error, version }, 'the Hearth update did not download');
    // Before anything was offered (offline, the feed is down) there is nothing to tell.
    if (version === null || this.#failedTold === version) return;
    this.#failedTold = version;
    this.#deps.notify({ state: 'failed', version, message: errorMessages.SELF_UPDATE_FAILED });
  }
}
