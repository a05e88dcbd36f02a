// Owns the alerts: takes the latest of each list Hearth already publishes (devices, apps,
// backups, updates) plus what the connections and disk readings say, runs the policy, keeps
// the book, saves it and publishes alerts:changed when what the owner sees changes. Time
// alone can raise an alert (a device offline for two minutes), so it also looks on a timer.
import type {
  AlertsSnapshot,
  AppBackupStatus,
  AppUpdateStatus,
  DeviceRecord,
  InstalledApp,
} from '../../../shared/model';
import type { Clock, Sleep } from '../clock';
import type { Logger } from '../logger';
import type { AlertBookOptions } from './alert-book';
import { AlertBook, DEFAULT_BOOK_OPTIONS } from './alert-book';
import { byUrgency, overallOf, summaryOf } from './alert-overview';
import type { DiskUsage, Observations, PartialObservations, PolicyOptions } from './alert-policy';
import { conditions, isKnown } from './alert-policy';
import type { AlertStore } from './alert-store';
import { DeviceReachability } from './device-reachability';

export interface AlertServiceDeps {
  store: Pick<AlertStore, 'load' | 'save'>;
  clock: Clock;
  sleep: Sleep;
  log: Pick<Logger, 'warn'>;
  publish: (snapshot: AlertsSnapshot) => void;
  policy?: Partial<PolicyOptions>;
  book?: Partial<AlertBookOptions>;
  /** How often time alone is looked at (thresholds crossed with nothing new observed). */
  tickMs?: number;
  /**
   * Asked on every tick, for lists whose owners do not publish what time changes (a backup
   * becomes overdue with nothing happening); it calls the observe methods.
   */
  poll?: () => Promise<void>;
}

export const DEFAULT_POLICY: PolicyOptions = { offlineAfterMs: 2 * 60_000 };

export class AlertService {
  readonly #deps: AlertServiceDeps;
  readonly #policy: PolicyOptions;
  readonly #book: Promise<AlertBook>;
  readonly reach: DeviceReachability;
  // Null until first heard of since Hearth started (see isKnown).
  #devices: readonly DeviceRecord[] | null = null;
  #apps: readonly InstalledApp[] | null = null;
  #backups: readonly AppBackupStatus[] | null = null;
  #updates: readonly AppUpdateStatus[] | null = null;
  readonly #disks = new Map<string, DiskUsage>();
  #queue: Promise<unknown> = Promise.resolve();
  #running: AbortController | null = null;
  #lastPublished = '';

  constructor(deps: AlertServiceDeps) {
    this.#deps = deps;
    this.#policy = { ...DEFAULT_POLICY, ...deps.policy };
    const options = { ...DEFAULT_BOOK_OPTIONS, ...deps.book };
    this.#book = deps.store.load().then(
      (state) => new AlertBook(state, options),
      (err: unknown) => {
        deps.log.warn({ err }, 'the alerts could not be read; starting with none');
        return new AlertBook({ open: [], history: [], recent: [] }, options);
      },
    );
    this.reach = new DeviceReachability(deps.clock, () => void this.evaluate());
  }

  observeDevices(devices: readonly DeviceRecord[]): Promise<void> {
    const ids = new Set(devices.map((d) => d.id));
    for (const id of this.#disks.keys()) if (!ids.has(id)) this.#disks.delete(id);
    for (const [id] of this.reach.snapshot()) if (!ids.has(id)) this.reach.forget(id);
    this.#devices = devices;
    return this.evaluate();
  }

  observeApps(apps: readonly InstalledApp[]): Promise<void> {
    this.#apps = apps;
    return this.evaluate();
  }

  observeBackups(backups: readonly AppBackupStatus[]): Promise<void> {
    this.#backups = backups;
    return this.evaluate();
  }

  observeUpdates(updates: readonly AppUpdateStatus[]): Promise<void> {
    this.#updates = updates;
    return this.evaluate();
  }

  /** A reading of the device's data disk; null when it could not be read. */
  observeDisk(deviceId: string, usage: DiskUsage | null): Promise<void> {
    if (usage) this.#disks.set(deviceId, usage);
    else this.#disks.delete(deviceId);
    return this.evaluate();
  }

  /** Runs the policy now; saves and publishes when anything the owner sees changed. */
  evaluate(): Promise<void> {
    // The time of the call, not of the turn in the queue: what was observed was true then.
    const now = this.#deps.clock.now();
    const next = this.#queue.then(async () => {
      const book = await this.#book;
      const partial: PartialObservations = {
        devices: this.#devices,
        reach: this.reach.snapshot(),
        disks: this.#disks,
        apps: this.#apps,
        backups: this.#backups,
        updates: this.#updates,
      };
      const obs: Observations = {
        ...partial,
        devices: this.#devices ?? [],
        apps: this.#apps ?? [],
        backups: this.#backups ?? [],
        updates: this.#updates ?? [],
      } as Observations;
      const holding = conditions(obs, now, this.#policy);
      if (book.apply(holding, now, (alert) => isKnown(alert, partial)))
        await this.#deps.store.save(book.state()).catch((err: unknown) => {
          this.#deps.log.warn({ err }, 'the alerts could not be saved');
        });
      this.#publishIfChanged(this.#snapshotOf(book));
    });
    // Callers fire and forget (a publish hook): a failure is logged here, never unhandled.
    const settled = next.catch((err: unknown) => {
      this.#deps.log.warn({ err }, 'the alerts could not be worked out');
    });
    this.#queue = settled;
    return settled;
  }

  async list(): Promise<AlertsSnapshot> {
    await this.#queue;
    return this.#snapshotOf(await this.#book);
  }

  start(): void {
    if (this.#running) return;
    const running = new AbortController();
    this.#running = running;
    void (async () => {
      while (!running.signal.aborted) {
        await this.#deps.sleep(this.#deps.tickMs ?? 10_000, running.signal);
        if (running.signal.aborted) break;
        await this.#deps.poll?.().catch((err: unknown) => {
          this.#deps.log.warn({ err }, 'the alerts could not look at the latest statuses');
        });
        await this.evaluate();
      }
    })();
  }

  stop(): void {
    this.#running?.abort();
    this.#running = null;
  }

  #snapshotOf(book: AlertBook): AlertsSnapshot {
    const open = book.open().sort(byUrgency);
    return {
      open,
      history: book.history(),
      overall: overallOf(open),
      summary: summaryOf(this.#devices?.length ?? 0, this.#apps ?? []),
    };
  }

  #publishIfChanged(snapshot: AlertsSnapshot): void {
    const text = JSON.stringify(snapshot);
    if (text === this.#lastPublished) return;
    this.#lastPublished = text;
    this.#deps.publish(snapshot);
  }
}
