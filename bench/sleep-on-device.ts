// The sleep rows' device side (bench/run.ts): what sleep-setup.ts reports, and putting apps
// to sleep between rounds the way the owner's Stop does for a sleeping app (the root agent's
// `stop`: the app stops, its sockets stay and hold its port for the next visitor).
import * as lab from '../e2e/lab/lab';
import { agentCommand } from '../electron/services/device/agent-protocol';
import { appUnit, sleepSocketUnit } from '../electron/services/device/layout';
import type { DeviceCapabilities } from '../shared/model';
import type { Accel, DeviceHypervisor, Runtime } from '../shared/runtimes';

/** The runtimes a sleep row is printed for (Xen guests have no socket on dom0 to wake them). */
export const SLEEP_RUNTIMES = ['qemu', 'hvt', 'spt'] as const satisfies readonly Runtime[];

/** sleep-setup.ts's answer. */
export interface SleepSetup {
  hypervisor: DeviceHypervisor;
  capabilities: DeviceCapabilities;
  runtimes: Runtime[];
  accel: Accel;
  memoryMiB: number;
  apps: { appId: string; port: number }[];
}

/** The agent's command as root runs it (sudo only adds the hearth account's rule). */
const asRoot = (command: string) => command.replace(/^sudo -n /, '');

/** Stops each app (asleep: its socket stays) and checks that it sleeps: no unit, socket held. */
export async function putToSleep(
  device: string,
  apps: readonly { appId: string; port: number }[],
): Promise<void> {
  for (const { appId, port } of apps) {
    const stop = await lab.exec(device, ['sh', '-c', asRoot(agentCommand('stop', appId))]);
    if (stop.code !== 0) throw new Error(`stopping ${appId}: ${stop.stderr.trim()}`);
    const units = await lab.exec(device, [
      'systemctl',
      'is-active',
      appUnit(appId),
      sleepSocketUnit(appId, port),
    ]);
    const [app, socket] = units.stdout.trim().split('\n');
    if (app === 'active' || socket !== 'active')
      throw new Error(`${appId} did not fall asleep: the app is ${app}, its socket ${socket}`);
  }
}
