// Electron's side of the contract: channels on ipcMain, events to every window.
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import type { Emit } from '../ipc/events';
import type { InvokeRegistrar, SenderInfo } from '../ipc/handle';

export function senderOf(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>): SenderInfo {
  const frame = event.senderFrame;
  if (!frame) return { url: null, isMainFrame: false };
  return { url: frame.url, isMainFrame: frame === event.sender.mainFrame };
}

export function electronRegistrar(ipcMain: Pick<IpcMain, 'handle'>): InvokeRegistrar {
  return {
    register: (channel, listener) =>
      ipcMain.handle(channel, (event, request: unknown) => listener(senderOf(event), request)),
  };
}

export function electronEmit(windows: () => BrowserWindow[]): Emit {
  return (channel, payload) => {
    for (const window of windows()) {
      if (!window.isDestroyed()) window.webContents.send(channel, payload);
    }
  };
}
