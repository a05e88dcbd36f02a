// A small data disk for a lab device, so a spec can fill it past the disk alert's threshold.
// A lab device's root lives on the machine's own disk (an overlay under /run/hearth-lab), which
// is far too big to fill and shared with everything else on the machine; instead a tmpfs of a
// few MiB is mounted over Hearth's state folder, as if the device had a tiny SD card. It hides
// whatever was there (apps an earlier spec left) until restore() brings it back.
import type { Lab } from '../lab/fixture';

/** Hearth's state folder on a device: the filesystem Hearth measures for the disk alert. */
const STATE_DIR = '/var/lib/hearth';
/** Names the tmpfs, so restore() takes off only what this helper put on. */
const SOURCE = 'hearth-e2e-data';
const FILLER = `${STATE_DIR}/e2e-filler`;

export interface SmallDataDisk {
  /** Takes the disk to `percent` full (of what df calls used plus available). */
  fill(percent: number): Promise<void>;
  /** Frees what fill() took. */
  free(): Promise<void>;
  /** Takes the small disk off again; the apps on it must be stopped first. */
  restore(): Promise<void>;
}

async function root(lab: Lab, device: string, script: string, what: string): Promise<void> {
  const r = await lab.exec(device, ['sh', '-ec', script]);
  if (r.code !== 0) throw new Error(`could not ${what} on ${device}: ${r.stderr.trim()}`);
}

const unmount = `while [ "$(findmnt -no SOURCE ${STATE_DIR} | tail -n 1)" = ${SOURCE} ]; do
  umount ${STATE_DIR} || umount -l ${STATE_DIR}
done`;

/**
 * Mounts a `mib` MiB disk over a prepared device's state folder, owned and permitted as the
 * folder is, with an empty apps folder made as provisioning makes it.
 */
export async function smallDataDisk(lab: Lab, device: string, mib: number): Promise<SmallDataDisk> {
  await root(
    lab,
    device,
    `${unmount}
d=${STATE_DIR}
mode=$(stat -c %a $d); uid=$(stat -c %u $d); gid=$(stat -c %g $d)
apps_mode=$(stat -c %a $d/apps); apps_owner=$(stat -c %u:%g $d/apps)
mount -t tmpfs -o size=${mib}m,mode=$mode,uid=$uid,gid=$gid ${SOURCE} $d
mkdir $d/apps
chown $apps_owner $d/apps
chmod $apps_mode $d/apps`,
    'mount a small data disk',
  );
  return {
    fill: (percent) =>
      root(
        lab,
        device,
        // df -Pk: 1024-blocks, used, available. The filler is what is missing to `percent`.
        `set -- $(df -Pk ${STATE_DIR} | awk 'NR == 2 { print $3 + $4, $3 }')
fallocate -l $(( ($1 * ${percent} / 100 - $2) * 1024 )) ${FILLER}`,
        'fill the data disk',
      ),
    free: () => root(lab, device, `rm -f ${FILLER}`, 'free the data disk'),
    restore: () => root(lab, device, unmount, 'take the small data disk off'),
  };
}
