// Updates as the owner sees them: per installed app, what its catalog offers, whether Hearth
// updates it by itself or asks, and where the update transaction stands (the UpdateRunner).
// Published as updates:changed whenever any of it changes; "update automatically" starts the
// runner here, once per offered version.
import { HearthError } from '../../../shared/errors';
import type { AppUpdateStatus, UpdateOutcome, UpdatePolicy } from '../../../shared/model';
import type { AppMonitor } from '../apps/app-monitor';
import type { CatalogService } from '../catalog/catalog-service';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { findOffer } from './update-finder';
import type { UpdatePolicyStore } from './update-policy-store';
import { policyKey } from './update-policy-store';
import type { UpdateRunner } from './update-runner';

export interface UpdateServiceDeps {
  monitor: Pick<AppMonitor, 'list' | 'get'>;
  /** The catalogs, once read (Hearth reads its bundled files first). */
  catalog: () => Promise<Pick<CatalogService, 'resolve' | 'list' | 'refresh'>>;
  runner: UpdateRunner;
  policies: UpdatePolicyStore;
  clock: Clock;
  log: Logger;
  publish: (list: AppUpdateStatus[]) => void;
}

export class UpdateService {
  readonly #deps: UpdateServiceDeps;
  /** Automatic updates that did not even start, when the runner has no outcome to show. */
  readonly #failures = new Map<string, UpdateOutcome>();
  #lastPublished = '';
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: UpdateServiceDeps) {
    this.#deps = deps;
    deps.runner.onChange(() => this.changed());
  }

  async list(): Promise<AppUpdateStatus[]> {
    const { monitor, policies, runner } = this.#deps;
    // Without catalogs (their files could not be read: logged where they are loaded) the apps
    // still have a status, only no offers.
    const catalog = await this.#deps.catalog().catch(() => null);
    const problems = new Map<string, string>();
    for (const c of catalog ? (await catalog.list()).catalogs : [])
      if (c.problem) problems.set(c.id, c.problem.message);
    const statuses: AppUpdateStatus[] = [];
    for (const app of monitor.list()) {
      const known = monitor.get(app.deviceId, app.appId);
      if (!known) continue;
      const found = catalog
        ? await findOffer(catalog, known.device, { ...app, target: known.spec.target })
        : { offer: null, catalogId: null };
      const standing = runner.standing(app.deviceId, app.appId);
      const key = policyKey(app.deviceId, app.appId);
      const problem = found.catalogId === null ? undefined : problems.get(found.catalogId);
      statuses.push({
        deviceId: app.deviceId,
        appId: app.appId,
        appName: app.name,
        installedVersion: app.version,
        available: found.offer,
        policy: await policies.policy(app.deviceId, app.appId),
        previousVersion: standing.previousVersion,
        runningTaskId: standing.runningTaskId,
        lastOutcome: standing.lastOutcome ?? this.#failures.get(key) ?? null,
        ...(problem === undefined ? {} : { catalogProblem: problem }),
      });
    }
    return statuses.sort((a, b) =>
      policyKey(a.deviceId, a.appId).localeCompare(policyKey(b.deviceId, b.appId)),
    );
  }

  /** Reads every catalog again now; a catalog that fails keeps its last good copy. */
  async check(): Promise<AppUpdateStatus[]> {
    await (await this.#deps.catalog()).refresh();
    return this.#publish();
  }

  async setPolicy(deviceId: string, appId: string, policy: UpdatePolicy): Promise<AppUpdateStatus> {
    this.#known(deviceId, appId);
    await this.#deps.policies.setPolicy(deviceId, appId, policy);
    const list = await this.#publish();
    return this.#statusIn(list, deviceId, appId);
  }

  /** Updates the app to the version its catalog offers now. */
  async start(deviceId: string, appId: string): Promise<{ taskId: string }> {
    const status = this.#statusIn(await this.list(), deviceId, appId);
    if (!status.available)
      throw new HearthError(
        'NOT_FOUND',
        `${status.appName} has no newer version to update to. Check for updates, then try again.`,
      );
    const started = await this.#deps.runner.start(deviceId, appId, status.available.version);
    this.#failures.delete(policyKey(deviceId, appId));
    this.changed();
    return started;
  }

  goBack(deviceId: string, appId: string, data: 'now' | 'before'): Promise<{ taskId: string }> {
    this.#known(deviceId, appId);
    return this.#deps.runner.goBack(deviceId, appId, data);
  }

  /** Something the statuses depend on changed (apps, a task, a catalog): publish, then act. */
  changed(): void {
    void this.#publish().catch((error: unknown) =>
      this.#deps.log.warn({ err: error }, 'update statuses could not be published'),
    );
  }

  /** Resolves once every publish queued so far, and any it queued in turn, has run. */
  async settled(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.#queue;
      await seen;
    } while (seen !== this.#queue);
  }

  /** One at a time, so an automatic update is never decided twice from the same statuses. */
  #publish(): Promise<AppUpdateStatus[]> {
    const next = this.#queue.then(async () => {
      const list = await this.list();
      const json = JSON.stringify(list);
      if (json !== this.#lastPublished) {
        this.#lastPublished = json;
        this.#deps.publish(list);
      }
      if (await this.#updateByThemselves(list)) this.changed();
      return list;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Starts the updates the owner let Hearth do alone; true if one failed to start. */
  async #updateByThemselves(list: AppUpdateStatus[]): Promise<boolean> {
    const { log, monitor, policies, runner } = this.#deps;
    let failed = false;
    for (const status of list) {
      const { deviceId, appId, available } = status;
      if (status.policy !== 'auto' || !available || status.runningTaskId !== null) continue;
      // Tried when the device can be reached and the app is not being installed.
      const state = monitor.get(deviceId, appId)?.app.state;
      if (state === undefined || state === 'installing' || state === 'offline') continue;
      if (!(await policies.claimAutoStart(deviceId, appId, available.version))) continue;
      try {
        await runner.start(deviceId, appId, available.version);
        this.#failures.delete(policyKey(deviceId, appId));
        log.info({ deviceId, appId, version: available.version }, 'an automatic update started');
      } catch (error) {
        log.warn({ err: error, deviceId, appId }, 'an automatic update did not start');
        if (runner.standing(deviceId, appId).lastOutcome) continue;
        const reason =
          error instanceof HearthError ? error.message : new HearthError('INTERNAL').message;
        this.#failures.set(policyKey(deviceId, appId), {
          at: this.#deps.clock.now(),
          kind: 'failed',
          message: `Hearth did not update ${status.appName} to ${available.version} by itself: ${reason}`,
        });
        failed = true;
      }
    }
    return failed;
  }

  #known(deviceId: string, appId: string): void {
    if (!this.#deps.monitor.get(deviceId, appId)) throw new HearthError('APP_NOT_ON_DEVICE');
  }

  #statusIn(list: AppUpdateStatus[], deviceId: string, appId: string): AppUpdateStatus {
    const found = list.find((s) => s.deviceId === deviceId && s.appId === appId);
    if (!found) throw new HearthError('APP_NOT_ON_DEVICE');
    return found;
  }
}
