import type { Lab } from '../lab/fixture';

/**
 * Takes `appId` off a lab device behind Hearth's back, data and all. A worker's specs share
 * its lab, so an app an earlier spec installed would otherwise still be on the device, and its
 * catalog card would offer no "Install" at all.
 */
export async function removeAppFromDevice(lab: Lab, device: string, appId: string): Promise<void> {
  const units = `hearth-app@${appId}.service hearth-backup@${appId}.timer`;
  const r = await lab.exec(device, [
    'sh',
    '-c',
    // Its sleep units first (sleep.spec.ts), or their sockets would keep its ports.
    `/usr/local/lib/hearth/agent sleep-off ${appId} >/dev/null 2>&1; systemctl disable --now ${units} 2>/dev/null; rm -rf /var/lib/hearth/apps/${appId}`,
  ]);
  if (r.code !== 0) throw new Error(`could not remove ${appId} from ${device}: ${r.stderr}`);
}
