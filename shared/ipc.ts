// The contract between the UI and the app: every invoke channel with its request and
// response, every event channel with its payload. Runtime lists of the names live here
// too, so the preload can be generated from them without bundling any schema code.
import type { z } from 'zod';
import type { AppInfo, Settings, TaskSnapshot } from './model';
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
}

export interface EventMap {
  'tasks:updated': TaskSnapshot;
  'settings:changed': Settings;
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
] as const satisfies readonly InvokeChannel[];

export const eventChannels = [
  'tasks:updated',
  'settings:changed',
] as const satisfies readonly EventChannel[];

/** What crosses the wire for every invoke, in both transports. */
export type InvokeResult<T> =
  { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
