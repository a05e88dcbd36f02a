// Run on the lab's laptop side by bench/run.ts for the sleep rows: with Hearth's real services
// (laptop-hearth.ts) it prepares a factory-fresh device, installs the test catalog's Visit
// counters (visits, visits-2, ...: the same image under ids and ports of their own) as the
// Install button does, and turns "Sleep when idle" on for each as the app's card does, until
// Hearth shows every one sleeping. Then it leaves: sleeping and waking are the device's alone.
// Prints one JSON line: what Hearth recorded the device as (for the rows of runtimes it lacks)
// and each app's published web port.
import { parseArgs } from 'node:util';
import { deviceRuntimes } from '../shared/runtimes';
import { deviceOptions, laptopHearth, sayVerbose } from './laptop-hearth';

const { values } = parseArgs({
  options: { ...deviceOptions, apps: { type: 'string', default: '10' } },
});
const say = sayVerbose('sleep');
const hearth = await laptopHearth(values, say);
const { services, device } = hearth;
const appIds = Array.from({ length: Number(values.apps) }, (_, i) =>
  i === 0 ? 'visits' : `visits-${i + 1}`,
);
const apps: { appId: string; port: number }[] = [];
let accel = 'tcg';
let memoryMiB = 0;
try {
  for (const appId of appIds) {
    const { ms } = await hearth.install(appId);
    // The idle time the owner would leave (10 minutes): the rows put them to sleep themselves.
    await services.appControl.setSleep(device.id, appId, 10);
    await hearth.until(
      `${appId} sleeping`,
      () => (hearth.appOnDevice(appId)?.state === 'sleeping' ? true : undefined),
      120_000,
    );
    const spec = await hearth.installedSpec(appId);
    const port = spec.ports.find((p) => p.protocol === 'tcp')?.host;
    if (port === undefined) throw new Error(`${appId} publishes no TCP port`);
    apps.push({ appId, port });
    accel = spec.accel;
    memoryMiB = spec.memoryMiB;
    say(`${appId} installed in ${ms.toFixed(0)} ms, sleeping on port ${port}`);
  }
} finally {
  hearth.close();
}
console.log(
  JSON.stringify({
    hypervisor: device.hypervisor,
    capabilities: device.capabilities,
    runtimes: deviceRuntimes(device),
    accel,
    memoryMiB,
    apps,
  }),
);
