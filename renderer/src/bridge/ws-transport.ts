// Browser mode only: carries the same contract as Electron's IPC over a WebSocket to the
// Node process that runs the services. It is a transport and nothing more.
import type { HearthTransport } from '../../../shared/hearth-api';
import type { EventChannel, InvokeChannel, InvokeResult } from '../../../shared/ipc';
import { errorMessages } from '../../../shared/errors';

type ServerMessage =
  | { type: 'result'; id: number; result: InvokeResult<unknown> }
  | { type: 'event'; channel: EventChannel; payload: unknown };

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

const OPEN = 1;

export function createWsTransport(socket: SocketLike): HearthTransport {
  let nextId = 1;
  const pending = new Map<number, (result: InvokeResult<unknown>) => void>();
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  const queued: string[] = [];
  let closed = false;

  const disconnected: InvokeResult<unknown> = {
    ok: false,
    error: { code: 'DISCONNECTED', message: errorMessages.DISCONNECTED },
  };

  socket.addEventListener('open', () => {
    for (const message of queued.splice(0)) socket.send(message);
  });
  socket.addEventListener('close', () => {
    closed = true;
    for (const resolve of pending.values()) resolve(disconnected);
    pending.clear();
  });
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let message: ServerMessage;
    try {
      message = JSON.parse(event.data) as ServerMessage;
    } catch {
      return;
    }
    if (message.type === 'result') {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve?.(message.result);
    } else if (message.type === 'event') {
      for (const listener of listeners.get(message.channel) ?? []) listener(message.payload);
    }
  });

  return {
    invoke(channel: InvokeChannel, request: unknown) {
      if (closed) return Promise.resolve(disconnected);
      const id = nextId++;
      const text = JSON.stringify({ type: 'invoke', id, channel, request });
      return new Promise((resolve) => {
        pending.set(id, resolve);
        if (socket.readyState === OPEN) socket.send(text);
        else queued.push(text);
      });
    },
    subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
