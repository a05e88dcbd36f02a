// "Search this network" as a task: the bounded scan of the home's subnets, with progress, cancel
// and a one-line outcome.
import type { TaskManager } from '../tasks/task-manager';
import type { DiscoveryService } from './discovery-service';

export function startNetworkScan(
  tasks: TaskManager,
  discovery: Pick<DiscoveryService, 'scanSubnets'>,
): string {
  return tasks.run({ kind: 'discovery-scan', title: 'Search this network' }, async (ctx) => {
    ctx.detail('Knocking on the door of every address on your home network…');
    const found = await discovery.scanSubnets({
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(p.done, p.total),
    });
    ctx.throwIfCancelled();
    const summary =
      found.length === 0
        ? 'No device that accepts sign-ins answered.'
        : `Found ${found.length} ${found.length === 1 ? 'device' : 'devices'}.`;
    return { value: found.length, summary };
  }).id;
}
