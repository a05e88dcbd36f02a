import type { Lab } from '../lab/fixture';

/**
 * Takes `appId` off a lab device behind Hearth's back, data and all. A worker's specs share
 * its lab, so an app an earlier spec installed would otherwise still be on the device, and its
 * catalog card would offer no "Install" at all.
 */
export async function removeAppFromDevice(lab: Lab, device: string, appId: string): Promise<void> {
  const units = `hearth-app@${appId}.service hearth-backup@${appId}.timer`;
  const dir = `/var/lib/hearth/apps/${appId}`;
  const r = await lab.exec(device, [
    'sh',
    '-c',
    // Its sleep units first (sleep.spec.ts), or their sockets would keep its ports; a device
    // backup the timer started stopped too. Hearth keeps running meanwhile, and what it is
    // doing there (a copy, a state file) may write into the folder while rm empties it: a few
    // tries, then what was left, to say who wrote.
    `/usr/local/lib/hearth/agent sleep-off ${appId} >/dev/null 2>&1; systemctl disable --now ${units} 2>/dev/null; systemctl stop hearth-backup@${appId}.service 2>/dev/null
for i in 1 2 3 4 5; do rm -rf ${dir} 2>/dev/null && exit 0; sleep 1; done
rm -rf ${dir} || { find ${dir} >&2; exit 1; }`,
  ]);
  if (r.code !== 0) throw new Error(`could not remove ${appId} from ${device}: ${r.stderr}`);
}
