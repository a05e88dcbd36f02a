// Run on the lab's laptop side by bench/run.ts: starts Hearth's discovery and prints how
// long it took until a device with the given host name was listed.
import { parseArgs } from 'node:util';
import { DiscoveryService } from '../electron/services/discovery/discovery-service';

const { values } = parseArgs({
  options: { host: { type: 'string' }, timeout: { type: 'string', default: '20000' } },
});
const wanted = `${values.host}.local`;
const started = performance.now();
const discovery = new DiscoveryService({
  clock: { now: () => Date.now() },
  // Publish as soon as anything changes: the bench measures discovery, not UI coalescing.
  publishIntervalMs: 0,
  publish: (devices) => {
    if (devices.some((d) => d.hostnames.includes(wanted))) {
      console.log(JSON.stringify({ ms: performance.now() - started }));
      discovery.stop();
      process.exit(0);
    }
  },
});
discovery.start();
setTimeout(() => {
  console.log(JSON.stringify({ ms: null }));
  discovery.stop();
  process.exit(1);
}, Number(values.timeout));
