// The contract between the UI and the app: every invoke channel with its request and
// response, every event channel with its payload. Runtime lists of the names live here
// too, so the preload can be generated from them without bundling any schema code.
import type { z } from 'zod';
import type {
  AlertsSnapshot,
  AlertTarget,
  AppBackupStatus,
  AppUpdateStatus,
  AppInfo,
  BackupPoint,
  BackupSetup,
  CatalogApp,
  ChosenImage,
  InstalledApp,
  DeviceIdentity,
  DeviceRecord,
  DiscoveredDevice,
  RecoveryKit,
  Settings,
  TaskSnapshot,
} from './model';
import type { requestSchemas } from './schemas';

type RequestOf<C extends keyof typeof requestSchemas> = z.infer<(typeof requestSchemas)[C]>;

export interface InvokeMap {
  'app:info': { request: RequestOf<'app:info'>; response: AppInfo };
  /**
   * Restarts Hearth into the downloaded update; waits (restarting: false) while a backup,
   * restore or update of an app is running, and restarts once it has finished.
   */
  'app:restartToUpdate': {
    request: RequestOf<'app:restartToUpdate'>;
    response: { restarting: boolean };
  };
  'settings:get': { request: RequestOf<'settings:get'>; response: Settings };
  'settings:update': { request: RequestOf<'settings:update'>; response: Settings };
  'tasks:list': { request: RequestOf<'tasks:list'>; response: TaskSnapshot[] };
  'tasks:cancel': { request: RequestOf<'tasks:cancel'>; response: { cancelled: boolean } };
  'tasks:clearFinished': { request: RequestOf<'tasks:clearFinished'>; response: TaskSnapshot[] };
  /** Starts "Check this computer"; progress arrives as tasks:updated. */
  'checks:run': { request: RequestOf<'checks:run'>; response: { taskId: string } };
  /** Devices Hearth has prepared. */
  'devices:list': { request: RequestOf<'devices:list'>; response: DeviceRecord[] };
  'devices:rename': { request: RequestOf<'devices:rename'>; response: DeviceRecord };
  /** Hearth stops looking after the device on this computer; nothing changes on the device. */
  'devices:forget': { request: RequestOf<'devices:forget'>; response: null };
  /** Devices seen on the network (or added by address) that could be prepared. */
  'discovery:list': { request: RequestOf<'discovery:list'>; response: DiscoveredDevice[] };
  'discovery:addByAddress': {
    request: RequestOf<'discovery:addByAddress'>;
    response: DiscoveredDevice;
  };
  /** Looks for devices on this computer's local networks; a task with progress. */
  'discovery:scan': { request: RequestOf<'discovery:scan'>; response: { taskId: string } };
  /** Learns the device's identity (host key) without signing in, for the owner to confirm. */
  'provisioning:identify': {
    request: RequestOf<'provisioning:identify'>;
    response: DeviceIdentity;
  };
  /** Prepares the device; the password is used for this run only. */
  'provisioning:start': {
    request: RequestOf<'provisioning:start'>;
    response: { taskId: string };
  };
  /** Apps the trusted catalogs offer. */
  'catalog:list': { request: RequestOf<'catalog:list'>; response: CatalogApp[] };
  /** Adds a catalog by its address (it must be signed by a trusted publisher). */
  'catalog:add': { request: RequestOf<'catalog:add'>; response: CatalogApp[] };
  /** Apps installed on every device Hearth looks after, as last reported. */
  'apps:list': { request: RequestOf<'apps:list'>; response: InstalledApp[] };
  /** Download, verify, upload, start; a task with progress and Cancel. */
  'apps:install': { request: RequestOf<'apps:install'>; response: { taskId: string } };
  'apps:start': { request: RequestOf<'apps:start'>; response: null };
  'apps:stop': { request: RequestOf<'apps:stop'>; response: null };
  'apps:restart': { request: RequestOf<'apps:restart'>; response: null };
  'apps:remove': { request: RequestOf<'apps:remove'>; response: { dataDeleted: boolean } };
  'apps:setMemory': { request: RequestOf<'apps:setMemory'>; response: null };
  /** "Sleep when idle" on (after idleMinutes without a visit) or off (null). */
  'apps:setSleep': { request: RequestOf<'apps:setSleep'>; response: null };
  /** The last lines of the app's console; new lines follow as apps:console events. */
  'apps:console': { request: RequestOf<'apps:console'>; response: { lines: string[] } };
  /** Opens the file dialog; reads and checks the chosen image. Null when the owner cancels. */
  'apps:chooseImage': { request: RequestOf<'apps:chooseImage'>; response: ChosenImage | null };
  /** Installs a chosen image with the owner's resources; the same install task as the catalog's. */
  'apps:installFromFile': {
    request: RequestOf<'apps:installFromFile'>;
    response: { taskId: string; appId: string };
  };
  /** Where backups go and whether the owner has kept the recovery kit. */
  'backups:setup': { request: RequestOf<'backups:setup'>; response: BackupSetup };
  /** Opens the folder dialog; null when the owner cancels (NO_FILE_DIALOG where there is none). */
  'backups:chooseFolder': {
    request: RequestOf<'backups:chooseFolder'>;
    response: { path: string } | null;
  };
  /** Makes a new repository in the folder with a generated password; returns the kit to keep. */
  'backups:createRepository': {
    request: RequestOf<'backups:createRepository'>;
    response: { setup: BackupSetup; kit: RecoveryKit };
  };
  /** Opens an existing repository with the password from a recovery kit (a new computer). */
  'backups:openRepository': {
    request: RequestOf<'backups:openRepository'>;
    response: BackupSetup;
  };
  /** The recovery kit again (it holds the password: shown only when the owner asks). */
  'backups:recoveryKit': { request: RequestOf<'backups:recoveryKit'>; response: RecoveryKit };
  /** Saves the kit as a page (save dialog in the desktop app); null when the owner cancels. */
  'backups:saveKit': {
    request: RequestOf<'backups:saveKit'>;
    response: { savedTo: string } | null;
  };
  /** The owner kept the kit: backups may run. */
  'backups:confirmKit': { request: RequestOf<'backups:confirmKit'>; response: BackupSetup };
  /** Every installed app's backups, as they stand. */
  'backups:list': { request: RequestOf<'backups:list'>; response: AppBackupStatus[] };
  /** The points in time one app can be restored to, newest first. */
  'backups:points': { request: RequestOf<'backups:points'>; response: BackupPoint[] };
  /** Every point in the repository, also of apps no device has any more (restore elsewhere). */
  'backups:allPoints': { request: RequestOf<'backups:allPoints'>; response: BackupPoint[] };
  /** Backs the app up now; a task with progress (bytes) and Cancel. */
  'backups:run': { request: RequestOf<'backups:run'>; response: { taskId: string } };
  /** Restores a point onto its device, or onto another one (the app is installed there). */
  'backups:restore': { request: RequestOf<'backups:restore'>; response: { taskId: string } };
  /** Restores the newest point into a scratch copy, boots it, checks its health, removes it. */
  'backups:drill': { request: RequestOf<'backups:drill'>; response: { taskId: string } };
  'backups:setSchedule': {
    request: RequestOf<'backups:setSchedule'>;
    response: AppBackupStatus;
  };
  /** This computer's repository, or another Hearth device in the house. */
  'backups:setDestination': {
    request: RequestOf<'backups:setDestination'>;
    response: AppBackupStatus;
  };
  /** Every installed app's update state: what its catalog offers, what it could go back to. */
  'updates:list': { request: RequestOf<'updates:list'>; response: AppUpdateStatus[] };
  /** Re-reads every catalog now (they are also re-read on a schedule). */
  'updates:check': { request: RequestOf<'updates:check'>; response: AppUpdateStatus[] };
  /** "Update automatically" or "ask me", per app. */
  'updates:setPolicy': { request: RequestOf<'updates:setPolicy'>; response: AppUpdateStatus };
  /** Updates the app to the version on offer, as a transaction that rolls back by itself. */
  'updates:start': { request: RequestOf<'updates:start'>; response: { taskId: string } };
  /** Goes back to the previous version, with the data as it is now or as it was before. */
  'updates:goBack': { request: RequestOf<'updates:goBack'>; response: { taskId: string } };
  /** Open alerts (worst first), the quiet history of resolved ones, and the tray's overview. */
  'alerts:list': { request: RequestOf<'alerts:list'>; response: AlertsSnapshot };
}

/** What Hearth's own update tells the window: ready to restart into, or why it is not. */
export type SelfUpdateNotice =
  | { state: 'ready'; version: string; notes: string | null }
  | { state: 'failed'; version: string; message: string };

export interface EventMap {
  'app:selfUpdate': SelfUpdateNotice;
  'tasks:updated': TaskSnapshot;
  'settings:changed': Settings;
  'devices:changed': DeviceRecord[];
  'discovery:changed': DiscoveredDevice[];
  'apps:changed': InstalledApp[];
  'apps:console': { deviceId: string; appId: string; lines: string[] };
  'backups:changed': AppBackupStatus[];
  'backups:setupChanged': BackupSetup;
  'updates:changed': AppUpdateStatus[];
  'alerts:changed': AlertsSnapshot;
  /** Main asks the window to open Hearth at a device or app (a notification or the tray was clicked). */
  'app:openAt': AlertTarget;
}

export type InvokeChannel = keyof InvokeMap;
export type EventChannel = keyof EventMap;
export type InvokeRequest<C extends InvokeChannel> = InvokeMap[C]['request'];
export type InvokeResponse<C extends InvokeChannel> = InvokeMap[C]['response'];

export const invokeChannels = [
  'app:info',
  'app:restartToUpdate',
  'settings:get',
  'settings:update',
  'tasks:list',
  'tasks:cancel',
  'tasks:clearFinished',
  'checks:run',
  'devices:list',
  'devices:rename',
  'devices:forget',
  'discovery:list',
  'discovery:addByAddress',
  'discovery:scan',
  'provisioning:identify',
  'provisioning:start',
  'catalog:list',
  'catalog:add',
  'apps:list',
  'apps:install',
  'apps:start',
  'apps:stop',
  'apps:restart',
  'apps:remove',
  'apps:setMemory',
  'apps:setSleep',
  'apps:console',
  'apps:chooseImage',
  'apps:installFromFile',
  'backups:setup',
  'backups:chooseFolder',
  'backups:createRepository',
  'backups:openRepository',
  'backups:recoveryKit',
  'backups:saveKit',
  'backups:confirmKit',
  'backups:list',
  'backups:points',
  'backups:allPoints',
  'backups:run',
  'backups:restore',
  'backups:drill',
  'backups:setSchedule',
  'backups:setDestination',
  'updates:list',
  'updates:check',
  'updates:setPolicy',
  'updates:start',
  'updates:goBack',
  'alerts:list',
] as const satisfies readonly InvokeChannel[];

export const eventChannels = [
  'app:selfUpdate',
  'tasks:updated',
  'settings:changed',
  'devices:changed',
  'discovery:changed',
  'apps:changed',
  'apps:console',
  'backups:changed',
  'backups:setupChanged',
  'updates:changed',
  'alerts:changed',
  'app:openAt',
] as const satisfies readonly EventChannel[];

/** What crosses the wire for every invoke, in both transports. */
export type InvokeResult<T> =
  { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
