// Builds every service once, from the ports a shell provides. Electron's main.ts and the
// browser-mode server both call this: the logic behind window.hearth is the same code
// in both; only the transport differs.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HearthError } from '../shared/errors';
import type { AppInfo, CatalogApp, DeviceIdentity, DeviceRecord } from '../shared/model';
import type { Runtime } from '../shared/runtimes';
import type { Emit } from './ipc/events';
import { runComputerCheck } from './services/checks/computer-check';
import { systemClock, systemSleep } from './services/clock';
import type { Clock, Sleep } from './services/clock';
import { AppController } from './services/apps/app-controller';
import { AppInstaller } from './services/apps/app-installer';
import type { AppCatalogPort } from './services/apps/app-ports';
import { AppMonitor } from './services/apps/app-monitor';
import { ChosenImages } from './services/apps/chosen-images';
import { FileInstaller } from './services/apps/file-installer';
import { probeOnce } from './services/apps/health-probe';
import { LinkHosts } from './services/apps/link-host';
import { DeviceSessions } from './services/device/device-sessions';
import { peerAccount } from './services/device/layout';
import { ArtifactCache } from './services/catalog/artifact-cache';
import { loadBundledCatalog } from './services/catalog/bundled-catalog';
import { catalogAppViews, catalogPort } from './services/catalog/catalog-port';
import { CatalogService } from './services/catalog/catalog-service';
import type { TrustedKey } from './services/catalog/catalog-signature';
import { launcherFor } from './services/runtimes/launcher';
import type { LaunchSpec } from './services/runtimes/launch-spec';
import { DeviceStore } from './services/devices/device-store';
import { identifyDevice } from './services/devices/identify-device';
import { DiscoveryService } from './services/discovery/discovery-service';
import { listenForServices } from './services/discovery/mdns-listen';
import { startNetworkScan } from './services/discovery/scan-task';
import { ensureInstallKey } from './services/keys/install-key';
import type { KeyVault } from './services/keys/key-vault';
import { prepareDevice } from './services/provisioning/prepare-device';
import type { ProvisionRequest } from './services/provisioning/provisioner';
import { probeHostKey } from './services/ssh/probe-host-key';
import { connectSsh } from './services/ssh/ssh-connect';
import type { Logger } from './services/logger';
import { SettingsService } from './services/settings/settings-service';
import { AlertService } from './services/alerts/alert-service';
import { AlertStore } from './services/alerts/alert-store';
import { DiskWatch } from './services/alerts/disk-watch';
import { readDiskUsage } from './services/device/disk-usage';
import { AppLocks } from './services/backups/app-locks';
import { BackupRepository } from './services/backups/backup-repository';
import { BackupScheduler } from './services/backups/backup-scheduler';
import { BackupService } from './services/backups/backup-service';
import { BackupStateStore } from './services/backups/backup-state';
import { PeerDestinations } from './services/backups/peer-destination';
import { KIT_FILE_NAME, writeKitFile } from './services/backups/kit-file';
import { Restic } from './services/backups/restic';
import { findRestic } from './services/backups/restic-binary';
import { gateOf, gated } from './services/backups/repository-gate';
import { AtomicJsonStore } from './services/store/atomic-json-store';
import { TaskManager } from './services/tasks/task-manager';
import { CatalogRefreshSchedule } from './services/updates/catalog-refresh-schedule';
import { deviceUpdatePort } from './services/updates/update-device';
import { UpdateHistory } from './services/updates/update-history';
import { UpdateSweep } from './services/updates/update-sweep';
import { UpdateTransaction } from './services/updates/update-transaction';
import { UpdatePolicyStore } from './services/updates/update-policy-store';
import { UpdateService } from './services/updates/update-service';

export interface AppServicesOptions {
  userDataDir: string;
  emit: Emit;
  log: Logger;
  info: AppInfo;
  keyVault: KeyVault;
  /** The folder holding catalog/ (the repo's resources/ in development). */
  resourcesDir: string;
  /** More catalogs and publisher keys to trust (the e2e specs' signed test catalog). */
  extraCatalogs?: string[];
  extraTrustedKeys?: TrustedKey[];
  clock?: Clock;
  sleep?: Sleep;
  /** How long "Check this computer" listens for devices. */
  checkListenMs?: number;
  /** The one-shot mDNS listener of "Check this computer" (tests pass one that stays off the network). */
  listen?: typeof listenForServices;
  /**
   * Asks the owner for an image file (Electron's open dialog); null when they cancel. Left out
   * where there is no native dialog (browser mode without --choose-file).
   */
  chooseFile?: () => Promise<string | null>;
  /** The owner's documents folder: backups go to "Hearth Backups" there by default. */
  documentsDir?: string;
  /** The folder dialog of "Choose another folder…" (Electron); absent in browser mode. */
  chooseBackupFolder?: () => Promise<string | null>;
  /** The save dialog for the recovery kit; without one the kit is saved in the documents folder. */
  chooseKitFile?: (defaultPath: string) => Promise<string | null>;
  /**
   * Restarts into Hearth's downloaded update (true), or once app work has finished (false);
   * only the packaged Electron app has one, elsewhere it says there is none.
   */
  restartToUpdate?: () => boolean;
  /** The restic that ships with Hearth (installers bundle one); else the one on PATH. */
  resticBinary?: string;
  /** One "hour" of a backup schedule, and how often the schedule is looked at (e2e: seconds). */
  backupHourMs?: number;
  backupTickMs?: number;
  /** How often the catalogs are read again for updates (6 hours; e2e: seconds). */
  catalogRefreshMs?: number;
  /** How long a new version must keep running before an update keeps it (60 s; e2e: less). */
  updateWindowMs?: number;
  /** How often each app's update state on its device is looked at (a minute; e2e: seconds). */
  updateSweepMs?: number;
  /** How long a device must not answer before it is called offline (2 minutes; e2e: seconds). */
  alertOfflineMs?: number;
  /** How long a condition must stay away before its alert resolves (a minute; e2e: less). */
  alertSettleMs?: number;
  /** How often each answering device's disk is read for the disk alert (5 minutes; e2e: less). */
  alertDiskEveryMs?: number;
}

export interface AppServices {
  info: AppInfo;
  store: AtomicJsonStore;
  settings: SettingsService;
  tasks: TaskManager;
  devices: DeviceStore;
  discovery: DiscoveryService;
  /** The apps on every device, watched. */
  appMonitor: AppMonitor;
  appInstaller: AppInstaller;
  /** Start, stop, restart, memory, console, remove. */
  appControl: AppController;
  fileInstaller: FileInstaller;
  backups: BackupService;
  /** What each installed app's catalog offers, and the updates themselves. */
  updates: UpdateService;
  /** What needs the owner: open alerts, their history, the tray's overview. */
  alerts: AlertService;
  catalogApps(): Promise<CatalogApp[]>;
  addCatalog(url: string): Promise<CatalogApp[]>;
  runComputerCheck(): string;
  scanNetwork(): string;
  identifyDevice(address: string, port: number): Promise<DeviceIdentity>;
  provisionDevice(request: ProvisionRequest): string;
  renameDevice(id: string, name: string): Promise<DeviceRecord>;
  forgetDevice(id: string): Promise<null>;
  /** True while a backup, restore, drill or update of an app runs: no restart to update then. */
  appWorkRunning(): boolean;
  restartToUpdate(): { restarting: boolean };
  /** Starts what runs in the background (discovery); tests that don't need it skip this. */
  start(): void;
  dispose(): void;
}

export function createAppServices(options: AppServicesOptions): AppServices {
  const { emit, log, userDataDir } = options;
  const store = new AtomicJsonStore(join(userDataDir, 'state'), {
    onRecovered: (name, movedTo) =>
      log.warn({ name, movedTo }, 'a damaged state file was set aside and the last good copy used'),
  });
  const tasks = new TaskManager({
    clock: options.clock ?? systemClock,
    publish: (s) => emit('tasks:updated', s),
  });
  const settings = new SettingsService(store, (s) => emit('settings:changed', s));
  const clock = options.clock ?? systemClock;
  // Fed below wherever the lists it watches are published; polls what time alone changes.
  let pollAlerts = (): Promise<void> => Promise.resolve();
  const alerts = new AlertService({
    store: new AlertStore(store),
    clock,
    sleep: options.sleep ?? systemSleep,
    log,
    publish: (snapshot) => emit('alerts:changed', snapshot),
    poll: () => pollAlerts(),
    // A short offline threshold (e2e) is only worth it if time is looked at as often.
    ...(options.alertOfflineMs === undefined
      ? {}
      : { tickMs: Math.min(10_000, Math.max(500, options.alertOfflineMs / 2)) }),
    ...(options.alertOfflineMs === undefined
      ? {}
      : { policy: { offlineAfterMs: options.alertOfflineMs } }),
    ...(options.alertSettleMs === undefined ? {} : { book: { settleMs: options.alertSettleMs } }),
  });
  const devices = new DeviceStore(store, (d) => {
    emit('devices:changed', d);
    void alerts.observeDevices(d);
  });
  const discovery = new DiscoveryService({ clock, publish: (d) => emit('discovery:changed', d) });
  const installKey = () => ensureInstallKey(options.keyVault);

  // The catalog needs the bundled files read first; everything that uses it waits on this.
  const catalogReady = (async () => {
    const bundled = await loadBundledCatalog(options.resourcesDir);
    const catalog = new CatalogService({
      store,
      trustedKeys: [...bundled.trustedKeys, ...(options.extraTrustedKeys ?? [])],
      defaultCatalogPath: bundled.defaultCatalogPath,
    });
    for (const url of options.extraCatalogs ?? []) await catalog.addCatalog(url);
    return {
      catalog,
      port: catalogPort(catalog, new ArtifactCache(join(userDataDir, 'cache', 'artifacts'))),
    };
  })();
  catalogReady.catch((err: unknown) => log.error({ err }, 'the app catalog could not be loaded'));
  const sleep = options.sleep ?? systemSleep;
  // Set once the updates are built (below): an app that comes or goes changes their statuses.
  let appsChanged = (): void => undefined;
  const sessions = new DeviceSessions({
    devices,
    privateKey: async () => (await installKey()).privateKey,
    connect: connectSsh,
  });
  // Every connection's outcome tells the alerts whether the device answers.
  const client = alerts.reach.watch((deviceId: string) => sessions.client(deviceId));
  // Unikernels rarely act on ACPI power-down: a short graceful window, then a clean quit.
  const launcher = {
    files: (runtime: Runtime, spec: LaunchSpec) =>
      launcherFor(runtime, spec, { stopTimeoutS: 10 }).files,
  };
  const appMonitor = new AppMonitor({
    devices,
    client,
    disconnect: (id) => sessions.close(id),
    clock,
    sleep,
    probe: probeOnce,
    linkHosts: new LinkHosts(undefined, () => clock.now()),
    publish: (list) => {
      emit('apps:changed', list);
      void alerts.observeApps(list);
      appsChanged();
    },
    publishConsole: (event) => emit('apps:console', event),
  });
  // What installs and updates ask of the catalogs: resolve an app for a device, download it.
  const appCatalog: AppCatalogPort = {
    resolve: async (appId, target) => (await catalogReady).port.resolve(appId, target),
    download: async (artifact, o) => (await catalogReady).port.download(artifact, o),
  };
  const appInstaller = new AppInstaller({
    devices,
    tasks,
    catalog: appCatalog,
    launcher,
    client,
    clock,
    sleep,
    probe: probeOnce,
    installing: (deviceId, appId, busy) => appMonitor.setInstalling(deviceId, appId, busy),
    refresh: (device) => appMonitor.refreshDevice(device),
    neighbours: (deviceId) => appMonitor.specsOn(deviceId),
  });
  const appControl = new AppController({ monitor: appMonitor, client, launcher });
  const fileInstaller = new FileInstaller({
    devices,
    images: new ChosenImages({ now: () => clock.now() }),
    installer: appInstaller,
    monitor: appMonitor,
    client,
    ...(options.chooseFile ? { chooseFile: options.chooseFile } : {}),
  });

  const documentsDir = options.documentsDir ?? join(homedir(), 'Documents');
  // One piece of backup or update work per app at a time; the updates (issue 11) take these too.
  const appLocks = new AppLocks();
  const backupState = new BackupStateStore(store);
  const resticBinary = findRestic(
    options.resticBinary === undefined ? {} : { bundled: options.resticBinary },
  );
  resticBinary.catch((err: unknown) => log.warn({ err }, 'restic was not found on this computer'));
  const resticCache = join(userDataDir, 'cache', 'restic');
  const engine = async (repository: string, password: string) =>
    gated(
      new Restic({
        binary: await resticBinary,
        repository,
        password,
        cacheDir: resticCache,
        logger: log,
      }),
      gateOf(repository),
    );
  const backupRepository = new BackupRepository({
    state: backupState,
    vault: options.keyVault,
    clock,
    documentsDir,
    engine,
    appNames: () => Promise.resolve([...new Set(appMonitor.list().map((a) => a.name))]),
    peerLocations: async () => {
      // Copies on other devices: restic's SFTP address of each, as the source device reaches it.
      const { apps } = await backupState.read();
      const known = new Map((await devices.list()).map((d) => [d.id, d]));
      const seen = new Map<string, { label: string; repository: string }>();
      for (const [key, app] of Object.entries(apps)) {
        const target =
          app.destination.kind === 'device' ? known.get(app.destination.deviceId) : undefined;
        const sourceId = key.split('/')[0] ?? '';
        if (!target || !known.has(sourceId)) continue;
        seen.set(`${sourceId}>${target.id}`, {
          label: `A copy on ${target.name}, from ${known.get(sourceId)?.name ?? 'another device'}`,
          repository: `sftp:${peerAccount(sourceId)}@${target.addresses[0] ?? target.hostname}:/repo`,
        });
      }
      return [...seen.values()];
    },
    publish: (setup) => emit('backups:setupChanged', setup),
  });
  let publishBackups = (): Promise<void> => Promise.resolve();
  const peers = new PeerDestinations({
    client,
    devices,
    repository: backupRepository,
    state: backupState,
    tasks,
    clock,
    log,
    publish: () => publishBackups(),
  });
  const backups = new BackupService({
    state: backupState,
    repository: backupRepository,
    peers,
    engine,
    monitor: appMonitor,
    devices,
    client,
    tasks,
    locks: appLocks,
    clock,
    sleep,
    probe: probeOnce,
    launcher,
    log,
    publish: (list) => {
      emit('backups:changed', list);
      void alerts.observeBackups(list);
    },
    ...(options.chooseBackupFolder ? { chooseFolder: options.chooseBackupFolder } : {}),
    saveKit: async (html) => {
      const suggested = join(documentsDir, KIT_FILE_NAME);
      const path = options.chooseKitFile ? await options.chooseKitFile(suggested) : suggested;
      return path === null ? null : writeKitFile(path, html);
    },
    ...(options.backupHourMs === undefined ? {} : { hourMs: options.backupHourMs }),
  });
  publishBackups = () => backups.publish();
  const backupScheduler = new BackupScheduler({
    service: backups,
    state: backupState,
    monitor: appMonitor,
    clock,
    sleep,
    log,
    ...(options.backupTickMs === undefined ? {} : { tickMs: options.backupTickMs }),
  });

  const updateHistory = new UpdateHistory(store);
  updateHistory
    .load()
    .catch((err: unknown) => log.warn({ err }, 'the update history could not be read'));
  const updateTransaction = new UpdateTransaction({
    devices,
    tasks,
    catalog: appCatalog,
    launcher,
    device: async (deviceId) =>
      deviceUpdatePort(await client(deviceId), await devices.get(deviceId), {
        clock,
        sleep,
        probe: probeOnce,
      }),
    locks: appLocks,
    history: updateHistory,
    clock,
    sleep,
    log,
    refresh: (device) => appMonitor.refreshDevice(device),
    ...(options.updateWindowMs === undefined ? {} : { stabilityMs: options.updateWindowMs }),
  });
  const updateSweep = new UpdateSweep({
    monitor: appMonitor,
    transaction: updateTransaction,
    sleep,
    log,
    ...(options.updateSweepMs === undefined ? {} : { everyMs: options.updateSweepMs }),
  });
  const updates = new UpdateService({
    monitor: appMonitor,
    catalog: async () => (await catalogReady).catalog,
    runner: updateTransaction,
    policies: new UpdatePolicyStore(store),
    clock,
    log,
    publish: (list) => {
      emit('updates:changed', list);
      void alerts.observeUpdates(list);
    },
  });
  appsChanged = () => updates.changed();
  const diskWatch = new DiskWatch({
    clock,
    read: async (deviceId) => readDiskUsage((await client(deviceId)).session),
    observe: (deviceId, usage) => alerts.observeDisk(deviceId, usage),
    ...(options.alertDiskEveryMs === undefined ? {} : { everyMs: options.alertDiskEveryMs }),
  });
  // Backup statuses are published when backups run, not when time makes one overdue.
  pollAlerts = async () => {
    await alerts.observeDevices(await devices.list());
    await alerts.observeBackups(await backups.list());
    await diskWatch.poll(alerts.reach.answering());
  };
  const catalogSchedule = new CatalogRefreshSchedule({
    check: () => updates.check(),
    store,
    clock,
    sleep,
    log,
    ...(options.catalogRefreshMs === undefined ? {} : { everyMs: options.catalogRefreshMs }),
  });

  // Tell discovery the key of whatever answered at an address (that address only: one entry
  // may list an impersonator's address beside the real one), so entries merge by identity.
  const learned = (address: string, fingerprint: string) => {
    discovery.learnHostKey(address, fingerprint);
  };

  return {
    info: options.info,
    store,
    settings,
    tasks,
    runComputerCheck: () => {
      const check = runComputerCheck({
        tasks,
        store,
        userDataDir,
        listen: options.listen ?? listenForServices,
        ...(options.checkListenMs === undefined ? {} : { listenMs: options.checkListenMs }),
      });
      return check.taskId;
    },
    devices,
    discovery,
    appMonitor,
    appInstaller,
    appControl,
    fileInstaller,
    backups,
    updates,
    alerts,
    catalogApps: async () => catalogAppViews(await (await catalogReady).catalog.list()),
    addCatalog: async (url) => {
      const { catalog } = await catalogReady;
      await catalog.addCatalog(url);
      return catalogAppViews(await catalog.list());
    },
    scanNetwork: () => startNetworkScan(tasks, discovery),
    identifyDevice: (address, port) =>
      identifyDevice(
        {
          probe: (host, p) => probeHostKey({ host, port: p }),
          devices,
          learned,
          claims: (a) => discovery.claimsAt(a),
        },
        address,
        port,
      ),
    provisionDevice: (request) =>
      prepareDevice(
        {
          tasks,
          hearthVersion: options.info.version,
          installKey,
          devices,
          claimsAt: (address) => discovery.claimsAt(address),
          learned,
          connect: connectSsh,
        },
        request,
      ),
    renameDevice: (id, name) => devices.rename(id, name),
    forgetDevice: async (id) => {
      await devices.forget(id);
      appMonitor.forgetDevice(id);
      return null;
    },
    appWorkRunning: () => appLocks.anyHeld(),
    restartToUpdate: () => {
      if (!options.restartToUpdate) throw new HearthError('SELF_UPDATE_NONE');
      return { restarting: options.restartToUpdate() };
    },
    start: () => {
      discovery.start();
      appMonitor.start();
      backupScheduler.start();
      catalogSchedule.start();
      updateSweep.start();
      alerts.start();
      void pollAlerts().catch((err: unknown) =>
        log.warn({ err }, 'the alerts could not read the devices'),
      );
    },
    dispose: () => {
      tasks.cancelAll();
      discovery.stop();
      appMonitor.stop();
      backupScheduler.stop();
      catalogSchedule.stop();
      updateSweep.stop();
      alerts.stop();
      sessions.closeAll();
    },
  };
}
