// "Check this computer": the checks a laptop must pass before it can look after home
// devices. Each is real: the store writes and reads back, free space is measured, the
// network interfaces are read, and the LAN is listened to over mDNS.
import { statfs } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { z } from 'zod';
import { HearthError } from '../../../shared/errors';
import type { AtomicJsonStore } from '../store/atomic-json-store';
import type { TaskContext, TaskManager, TaskOutcome } from '../tasks/task-manager';
import type { AnnouncedService, ListenOptions } from '../discovery/mdns-listen';

export const checkSteps = [
  'Hearth can save its settings',
  'There is room on this computer',
  'This computer is on a network',
  'Listening for home devices',
] as const;

export interface ComputerCheckDeps {
  tasks: TaskManager;
  store: AtomicJsonStore;
  userDataDir: string;
  listen: (options: ListenOptions) => Promise<AnnouncedService[]>;
  listenMs?: number;
  /** Below this much free space the owner is warned (backups need room). */
  lowSpaceBytes?: number;
  interfaces?: typeof networkInterfaces;
  freeBytes?: (dir: string) => Promise<number>;
}

const probeSchema = z.object({ checkedAt: z.number() });

function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(1)} GB` : `${Math.round(bytes / 1024 ** 2)} MB`;
}

async function measureFreeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function runComputerCheck(deps: ComputerCheckDeps): { taskId: string; done: Promise<void> } {
  const listenMs = deps.listenMs ?? 6_000;
  const handle = deps.tasks.run(
    { kind: 'computer-check', title: 'Check this computer', steps: [...checkSteps] },
    async (ctx): Promise<TaskOutcome<void>> => {
      const total = checkSteps.length;
      let problems = 0;
      const track = async (index: number, run: () => Promise<'done' | 'warning' | 'failed'>) => {
        ctx.throwIfCancelled();
        ctx.step(index, 'running');
        ctx.progress(index, total);
        if ((await run()) !== 'done') problems++;
        ctx.progress(index + 1, total);
      };

      await track(0, async () => {
        ctx.detail('Saving a test note in your Hearth folder…');
        try {
          const checkedAt = Date.now();
          await deps.store.save('check', { checkedAt });
          const back = await deps.store.load('check', probeSchema, () => ({ checkedAt: -1 }));
          if (back.value.checkedAt !== checkedAt) throw new HearthError('STORAGE_FAILED');
          ctx.step(0, 'done', 'Your settings and device list will be kept safely.');
          return 'done';
        } catch (error) {
          const message =
            error instanceof HearthError
              ? error.message
              : new HearthError('STORAGE_FAILED').message;
          ctx.step(0, 'failed', message);
          return 'failed';
        }
      });

      await track(1, async () => {
        ctx.detail('Measuring free space…');
        const free = await (deps.freeBytes ?? measureFreeBytes)(deps.userDataDir);
        if (free < (deps.lowSpaceBytes ?? 2 * 1024 ** 3)) {
          ctx.step(
            1,
            'warning',
            `Only ${formatBytes(free)} free. Backups kept on this computer need more room; free some space or choose an external drive for backups.`,
          );
          return 'warning';
        }
        ctx.step(1, 'done', `${formatBytes(free)} free.`);
        return 'done';
      });

      await track(2, async () => {
        ctx.detail('Looking at your network connections…');
        const names = Object.entries((deps.interfaces ?? networkInterfaces)())
          .filter(([, addrs]) => (addrs ?? []).some((a) => a.family === 'IPv4' && !a.internal))
          .map(([name]) => name);
        if (names.length === 0) {
          ctx.step(
            2,
            'failed',
            'This computer is not connected to a network. Connect to your home Wi-Fi or plug in a network cable, then check again.',
          );
          return 'failed';
        }
        ctx.step(
          2,
          'done',
          `Connected through ${plural(names.length, 'connection', 'connections')} (${names.join(', ')}).`,
        );
        return 'done';
      });

      await track(3, () => listenStep(ctx, deps, listenMs, total));

      const summary =
        problems === 0
          ? 'This computer is ready to look after your home devices.'
          : `Finished with ${plural(problems, 'thing', 'things')} to look at: see the notes below.`;
      return { value: undefined, summary };
    },
  );
  return { taskId: handle.id, done: handle.done };
}

async function listenStep(
  ctx: TaskContext,
  deps: ComputerCheckDeps,
  listenMs: number,
  total: number,
) {
  ctx.detail(
    `Listening for devices that announce themselves (${Math.round(listenMs / 1000)} seconds)…`,
  );
  const started = Date.now();
  const ticker = setInterval(
    () => ctx.progress(3 + Math.min(1, (Date.now() - started) / listenMs) * 0.99, total),
    250,
  );
  const heard = new Set<string>();
  try {
    await deps.listen({
      types: ['hearth', 'ssh', 'sftp-ssh', 'workstation'],
      durationMs: listenMs,
      signal: ctx.signal,
      onFound: (s) => {
        heard.add(s.host || s.name);
        ctx.detail(`Heard from ${plural(heard.size, 'device', 'devices')} so far…`);
      },
    });
  } catch {
    ctx.step(
      3,
      'warning',
      'Hearth could not listen on this network (another program may be using it). You can still add a device by its address.',
    );
    return 'warning' as const;
  } finally {
    clearInterval(ticker);
  }
  ctx.throwIfCancelled();
  if (heard.size === 0) {
    ctx.step(
      3,
      'warning',
      'No device answered. That is fine: some networks hide devices from each other, and you can add a device by its address.',
    );
    return 'warning' as const;
  }
  const names = [...heard].sort().slice(0, 5).join(', ');
  ctx.step(
    3,
    'done',
    `Heard from ${plural(heard.size, 'device', 'devices')}: ${names}${heard.size > 5 ? ', …' : ''}.`,
  );
  return 'done' as const;
}
