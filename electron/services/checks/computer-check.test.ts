import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { networkInterfaces } from 'node:os';
import type { TaskSnapshot } from '../../../shared/model';
import type { ListenOptions } from '../discovery/mdns-listen';
import { AtomicJsonStore } from '../store/atomic-json-store';
import { TaskManager } from '../tasks/task-manager';
import { runComputerCheck } from './computer-check';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-check-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const wifi = () =>
  ({
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    wlan0: [{ address: '192.0.2.5', family: 'IPv4', internal: false }],
  }) as unknown as ReturnType<typeof networkInterfaces>;

function setup(overrides: Partial<Parameters<typeof runComputerCheck>[0]> = {}) {
  const published: TaskSnapshot[] = [];
  const tasks = new TaskManager({
    clock: { now: () => Date.now() },
    publish: (s) => published.push(s),
    progressIntervalMs: 0,
  });
  const run = runComputerCheck({
    tasks,
    store: new AtomicJsonStore(dir),
    userDataDir: dir,
    listenMs: 50,
    interfaces: wifi,
    freeBytes: () => Promise.resolve(50 * 1024 ** 3),
    listen: (o: ListenOptions) => {
      o.onFound?.({
        type: 'ssh',
        name: 'raspberrypi',
        host: 'raspberrypi.local',
        port: 22,
        addresses: [],
      });
      return Promise.resolve([]);
    },
    ...overrides,
  });
  const last = () => published.filter((s) => s.id === run.taskId).at(-1)!;
  return { run, tasks, published, last };
}

describe('Check this computer', () => {
  it('passes every check on a ready computer and reaches 100%', async () => {
    const { run, last, published } = setup();
    await run.done;
    expect(last().state).toBe('succeeded');
    expect(last().progress).toMatchObject({ done: 4, total: 4 });
    expect(last().steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(last().steps[3]!.note).toContain('raspberrypi.local');
    expect(last().summary).toBe('This computer is ready to look after your home devices.');
    const fractions = published.map((s) => s.progress?.done ?? 0);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });

  it('explains, in words, a computer with no network and little room', async () => {
    const { run, last } = setup({
      interfaces: () =>
        ({
          lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
        }) as unknown as ReturnType<typeof wifi>,
      freeBytes: () => Promise.resolve(300 * 1024 ** 2),
    });
    await run.done;
    const steps = last().steps;
    expect(steps[1]).toMatchObject({
      state: 'warning',
      note: expect.stringContaining('Only 300 MB free') as string,
    });
    expect(steps[2]).toMatchObject({
      state: 'failed',
      note: expect.stringContaining('Connect to your home Wi-Fi') as string,
    });
    expect(last().summary).toContain('2 things to look at');
  });

  it('warns rather than fails when the network cannot be listened to', async () => {
    const { run, last } = setup({ listen: () => Promise.reject(new Error('EADDRINUSE')) });
    await run.done;
    expect(last().steps[3]).toMatchObject({
      state: 'warning',
      note: expect.stringContaining('add a device by its address') as string,
    });
    expect(JSON.stringify(last())).not.toContain('EADDRINUSE');
  });

  it('says when the settings folder cannot be written', async () => {
    const { run, last } = setup({ store: new AtomicJsonStore(join(dir, 'missing', '\0bad')) });
    await run.done;
    expect(last().steps[0]).toMatchObject({
      state: 'failed',
      note: expect.stringContaining('could not save') as string,
    });
  });

  it('stops listening at once when cancelled', async () => {
    let listening!: () => void;
    const started = new Promise<void>((r) => (listening = r));
    const { run, tasks, last } = setup({
      listenMs: 60_000,
      listen: (o) =>
        new Promise((resolve) => {
          listening();
          o.signal.addEventListener('abort', () => resolve([]));
        }),
    });
    await started;
    tasks.cancel(run.taskId);
    await expect(run.done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(last().state).toBe('cancelled');
    expect(last().steps[3]!.state).toBe('skipped');
  });
});
