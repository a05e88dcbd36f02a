import { describe, expect, it } from 'vitest';
import { deserializeError, HearthError } from './errors';
import type { EventChannel, InvokeChannel, InvokeResult } from './ipc';
import { invokeChannels } from './ipc';
import { buildHearthApi } from './hearth-api';
import type { HearthTransport } from './hearth-api';

function fakeTransport(
  answer: (channel: InvokeChannel, request: unknown) => InvokeResult<unknown>,
) {
  const calls: [InvokeChannel, unknown][] = [];
  const listeners = new Map<EventChannel, Set<(p: unknown) => void>>();
  const transport: HearthTransport = {
    invoke: (channel, request) => {
      calls.push([channel, request]);
      return Promise.resolve(answer(channel, request));
    },
    subscribe: (channel, listener) => {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set.add(listener));
      return () => set.delete(listener);
    },
  };
  const fire = (channel: EventChannel, payload: unknown) =>
    listeners.get(channel)?.forEach((l) => l(payload));
  return { transport, calls, fire };
}

describe('buildHearthApi', () => {
  it('has one method per channel, named domain.verb, that sends the channel and request', async () => {
    const { transport, calls } = fakeTransport(() => ({ ok: true, value: { cancelled: true } }));
    const api = buildHearthApi(transport);
    for (const channel of invokeChannels) {
      const [domain, verb] = channel.split(':') as [string, string];
      expect(
        typeof (api as unknown as Record<string, Record<string, unknown>>)[domain]![verb],
      ).toBe('function');
    }
    expect(await api.tasks.cancel({ id: 'abc' })).toEqual({ cancelled: true });
    expect(calls).toEqual([['tasks:cancel', { id: 'abc' }]]);
  });

  it('rejects with a HearthError carrying the code and the owner’s sentence', async () => {
    const { transport } = fakeTransport(() => ({
      ok: false,
      error: { code: 'DISK_FULL', message: 'Disk full.' },
    }));
    const failure = buildHearthApi(transport).settings.get();
    await expect(failure).rejects.toBeInstanceOf(HearthError);
    await expect(failure).rejects.toMatchObject({ code: 'DISK_FULL', message: 'Disk full.' });
  });

  it('can reject with plain objects for the contextBridge, which the renderer reads back the same', async () => {
    const { transport } = fakeTransport(() => ({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Gone.' },
    }));
    const rejection: unknown = await buildHearthApi(transport, { plainErrors: true })
      .tasks.list()
      .catch((e: unknown) => e);
    expect(rejection).not.toBeInstanceOf(Error);
    expect(structuredClone(rejection)).toEqual({ code: 'NOT_FOUND', message: 'Gone.' });
    expect(deserializeError(rejection)).toMatchObject({ code: 'NOT_FOUND', message: 'Gone.' });
  });

  it('turns an unknown error code into INTERNAL rather than trusting it', async () => {
    const { transport } = fakeTransport(() => ({
      ok: false,
      error: { code: 'rm -rf', message: '<script>' },
    }));
    await expect(buildHearthApi(transport).app.info()).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('delivers events until unsubscribed', () => {
    const { transport, fire } = fakeTransport(() => ({ ok: true, value: null }));
    const api = buildHearthApi(transport);
    const seen: unknown[] = [];
    const off = api.on('settings:changed', (s) => seen.push(s.theme));
    fire('settings:changed', { theme: 'dark', welcomeDone: true });
    off();
    fire('settings:changed', { theme: 'light', welcomeDone: true });
    expect(seen).toEqual(['dark']);
  });
});
