import { expectTypeOf, test } from 'vitest';
import type { EventChannel, EventMap, InvokeChannel, InvokeResponse } from './ipc';
import type { eventChannels, invokeChannels } from './ipc';
import type { HearthApi } from './hearth-api';
import type { requestSchemas } from './schemas';
import type { AlertTarget, TaskSnapshot } from './model';

test('the runtime channel lists name every channel of the map, and nothing else', () => {
  expectTypeOf<(typeof invokeChannels)[number]>().toEqualTypeOf<InvokeChannel>();
  expectTypeOf<(typeof eventChannels)[number]>().toEqualTypeOf<EventChannel>();
});

test('every invoke channel has a request schema, and every schema a channel', () => {
  expectTypeOf<keyof typeof requestSchemas>().toEqualTypeOf<InvokeChannel>();
});

test('window.hearth has one method per channel with the mapped types', () => {
  expectTypeOf<HearthApi['tasks']['cancel']>().parameters.toEqualTypeOf<[{ id: string }]>();
  expectTypeOf<HearthApi['tasks']['cancel']>().returns.resolves.toEqualTypeOf<
    InvokeResponse<'tasks:cancel'>
  >();
  expectTypeOf<HearthApi['tasks']['list']>().parameters.toEqualTypeOf<[]>();
  expectTypeOf<HearthApi['tasks']['list']>().returns.resolves.toEqualTypeOf<TaskSnapshot[]>();
  expectTypeOf<keyof HearthApi>().toEqualTypeOf<
    | 'app'
    | 'settings'
    | 'tasks'
    | 'checks'
    | 'devices'
    | 'discovery'
    | 'provisioning'
    | 'catalog'
    | 'apps'
    | 'backups'
    | 'updates'
    | 'alerts'
    | 'on'
  >();
});

test('events deliver their mapped payloads', () => {
  type Listener = Parameters<HearthApi['on']>;
  expectTypeOf<Listener[0]>().toEqualTypeOf<EventChannel>();
});

declare const _hearth: HearthApi;

test('main can ask the window to open Hearth at an alert’s target', () => {
  expectTypeOf<EventMap['app:openAt']>().toEqualTypeOf<AlertTarget>();
  type OpenAtListener = Parameters<typeof _hearth.on<'app:openAt'>>[1];
  expectTypeOf<Parameters<OpenAtListener>[0]>().toEqualTypeOf<AlertTarget>();
});
