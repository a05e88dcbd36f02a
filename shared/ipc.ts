// The contract between the UI and the app: every invoke channel with its request and
// response, every event channel with its payload. Runtime lists of the names live here
// too, so the preload can be generated from them without bundling any schema code.
import type { z } from 'zod';
import type {
  AppInfo,
  CatalogApp,
  ChosenImage,
  InstalledApp,
  DeviceIdentity,
  DeviceRecord,
  DiscoveredDevice,
  Settings,
  TaskSnapshot,
} from './model';
import type { requestSchemas } from './schemas';

type RequestOf<C extends keyof typeof requestSchemas> = z.infer<(typeof requestSchemas)[C]>;

export interface InvokeMap {
  'app:info': { request: RequestOf<'app:info'>; response: AppInfo };
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
  /** The last lines of the app's console; new lines follow as apps:console events. */
  'apps:console': { request: RequestOf<'apps:console'>; response: { lines: string[] } };
  /** Opens the file dialog; reads and checks the chosen image. Null when the owner cancels. */
  'apps:chooseImage': { request: RequestOf<'apps:chooseImage'>; response: ChosenImage | null };
  /** Installs a chosen image with the owner's resources; the same install task as the catalog's. */
  'apps:installFromFile': {
    request: RequestOf<'apps:installFromFile'>;
    response: { taskId: string; appId: string };
  };
}

export interface EventMap {
  'tasks:updated': TaskSnapshot;
  'settings:changed': Settings;
  'devices:changed': DeviceRecord[];
  'discovery:changed': DiscoveredDevice[];
  'apps:changed': InstalledApp[];
  'apps:console': { deviceId: string; appId: string; lines: string[] };
}

export type InvokeChannel = keyof InvokeMap;
export type EventChannel = keyof EventMap;
export type InvokeRequest<C extends InvokeChannel> = InvokeMap[C]['request'];
export type InvokeResponse<C extends InvokeChannel> = InvokeMap[C]['response'];

export const invokeChannels = [
  'app:info',
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
  'apps:console',
  'apps:chooseImage',
  'apps:installFromFile',
] as const satisfies readonly InvokeChannel[];

export const eventChannels = [
  'tasks:updated',
  'settings:changed',
  'devices:changed',
  'discovery:changed',
  'apps:changed',
  'apps:console',
] as const satisfies readonly EventChannel[];

/** What crosses the wire for every invoke, in both transports. */
export type InvokeResult<T> =
  { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
