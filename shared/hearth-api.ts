// window.hearth, generated from the channel list: `tasks:cancel` becomes
// hearth.tasks.cancel(request). The same builder serves the Electron preload and the
// browser-mode bridge, so both transports expose exactly the same object.
import { deserializeError } from './errors';
import type {
  EventChannel,
  EventMap,
  InvokeChannel,
  InvokeRequest,
  InvokeResponse,
  InvokeResult,
} from './ipc';
import { invokeChannels } from './ipc';

type DomainOf<C> = C extends `${infer D}:${string}` ? D : never;

type Method<C extends InvokeChannel> = [InvokeRequest<C>] extends [undefined]
  ? () => Promise<InvokeResponse<C>>
  : (request: InvokeRequest<C>) => Promise<InvokeResponse<C>>;

export type HearthApi = {
  readonly [D in DomainOf<InvokeChannel>]: {
    readonly [C in InvokeChannel as C extends `${D}:${infer V}` ? V : never]: Method<C>;
  };
} & {
  /** Subscribe to an event channel; returns the unsubscribe function. */
  readonly on: <E extends EventChannel>(
    channel: E,
    listener: (payload: EventMap[E]) => void,
  ) => () => void;
};

export interface HearthTransport {
  invoke(channel: InvokeChannel, request: unknown): Promise<InvokeResult<unknown>>;
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}

export interface BuildOptions {
  /**
   * Reject with plain { code, message } objects instead of HearthError instances.
   * Electron's contextBridge keeps only the message of an Error that crosses it, so the
   * preload needs this; renderer code reads any rejection through deserializeError().
   */
  plainErrors?: boolean;
}

export function buildHearthApi(
  transport: HearthTransport,
  { plainErrors = false }: BuildOptions = {},
  channels: readonly InvokeChannel[] = invokeChannels,
): HearthApi {
  const api: Record<string, Record<string, (request?: unknown) => Promise<unknown>>> = {};
  for (const channel of channels) {
    const [domain, verb] = channel.split(':') as [string, string];
    api[domain] ??= {};
    api[domain][verb] = async (request?: unknown) => {
      const result = await transport.invoke(channel, request);
      if (result.ok) return result.value;
      const error = deserializeError(result.error);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- see BuildOptions.plainErrors
      throw plainErrors ? error.toJSON() : error;
    };
  }
  const on = (channel: EventChannel, listener: (payload: unknown) => void) =>
    transport.subscribe(channel, listener);
  return { ...api, on } as unknown as HearthApi;
}

/** The top-level keys of window.hearth: one per domain of the channel map, plus `on`. */
export const hearthApiKeys: readonly string[] = [
  ...new Set(invokeChannels.map((c) => c.split(':')[0]!)),
  'on',
].sort();
