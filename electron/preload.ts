// The preload exposes one object, window.hearth, generated from the channel list, and
// nothing else: no ipcRenderer, no Node.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { buildHearthApi } from '../shared/hearth-api';
import type { EventChannel, InvokeResult } from '../shared/ipc';
import { eventChannels } from '../shared/ipc';

const allowedEvents = new Set<string>(eventChannels);

const api = buildHearthApi(
  {
    invoke: (channel, request) =>
      ipcRenderer.invoke(channel, request) as Promise<InvokeResult<unknown>>,
    subscribe: (channel: EventChannel, listener) => {
      if (!allowedEvents.has(channel)) return () => undefined;
      const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
      ipcRenderer.on(channel, forward);
      return () => {
        ipcRenderer.removeListener(channel, forward);
      };
    },
  },
  { plainErrors: true },
);

contextBridge.exposeInMainWorld('hearth', api);

/** What the preload exposes; a type test pins it to the contract's HearthApi. */
export type PreloadApi = typeof api;
