// Every invoke channel is registered through handle(): it checks who is asking,
// validates the request against the channel's schema, and turns any failure into a
// stable { code, message } so no stack trace or internal path reaches the UI.
import type { Logger } from '../services/logger';
import { HearthError, serializeError } from '../../shared/errors';
import type { InvokeChannel, InvokeRequest, InvokeResponse, InvokeResult } from '../../shared/ipc';
import { invokeChannels } from '../../shared/ipc';
import { requestSchemas } from '../../shared/schemas';

/** Who sent a request, as the transport saw it. */
export interface SenderInfo {
  /** URL of the frame (Electron) or the page origin (browser mode); null if unknown. */
  url: string | null;
  /** False for iframes: only the app's own top-level page may call in. */
  isMainFrame: boolean;
}

export type RawListener = (sender: SenderInfo, request: unknown) => Promise<InvokeResult<unknown>>;

/** What a transport (Electron IPC, the browser-mode WebSocket) must offer. */
export interface InvokeRegistrar {
  register(channel: InvokeChannel, listener: RawListener): void;
}

export type Handler<C extends InvokeChannel> = (
  request: InvokeRequest<C>,
) => Promise<InvokeResponse<C>> | InvokeResponse<C>;

export type Handle = <C extends InvokeChannel>(channel: C, handler: Handler<C>) => void;

export interface HandleOptions {
  registrar: InvokeRegistrar;
  isTrustedSender: (sender: SenderInfo) => boolean;
  log: Logger;
}

export function createHandle({
  registrar,
  isTrustedSender,
  log,
}: HandleOptions): Handle & { registered(): InvokeChannel[] } {
  const registered = new Set<InvokeChannel>();

  const handle = <C extends InvokeChannel>(channel: C, handler: Handler<C>) => {
    if (!(invokeChannels as readonly string[]).includes(channel))
      throw new Error(`${channel} is not in the channel map`);
    if (registered.has(channel)) throw new Error(`${channel} is registered twice`);
    registered.add(channel);
    const schema = requestSchemas[channel];

    registrar.register(channel, async (sender, raw) => {
      try {
        if (!isTrustedSender(sender)) {
          log.warn({ channel, url: sender.url }, 'refused a request from an untrusted sender');
          throw new HearthError('FORBIDDEN_SENDER');
        }
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          log.warn({ channel, issues: parsed.error.issues.length }, 'refused invalid input');
          throw new HearthError('INVALID_INPUT');
        }
        const value = await handler(parsed.data);
        return { ok: true, value };
      } catch (error) {
        if (!(error instanceof HearthError)) log.error({ channel, err: error }, 'handler failed');
        // The owner reads the code's sentence; what caused it (a socket's errno) is for the log.
        else log.info({ channel, code: error.code, err: error }, 'request failed');
        return { ok: false, error: serializeError(error) };
      }
    });
  };
  return Object.assign(handle, { registered: () => [...registered] });
}
