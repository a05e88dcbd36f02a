// Where everything Hearth keeps on a device lives (DESIGN.md, "A Hearth device"). This file and
// the rest of services/device/ are the only code that knows a device path or a unit name;
// provisioning, apps, backups and updates ask here.
import type { AppId } from '../../../shared/ids';
import { isAppId } from '../../../shared/ids';

export const HEARTH_USER = 'hearth';
export const HEARTH_HOME = `/home/${HEARTH_USER}`;

/** systemd's template unit that runs apps, one instance per app id. */
const UNIT_TEMPLATE = 'hearth-app@.service';
const unitOf = (instance: string) => UNIT_TEMPLATE.replace('@', `@${instance}`);
const avahiFileOf = (instance: string) => `hearth-app-${instance}.service`;

const STATE_DIR = '/var/lib/hearth';
const APPS_DIR = `${STATE_DIR}/apps`;
const LIB_DIR = '/usr/local/lib/hearth';

export const deviceLayout = {
  /** { id, name, provisionedAt, hearthVersion }, owned by the hearth account. */
  deviceJson: '/etc/hearth/device.json',
  configDir: '/etc/hearth',
  stateDir: STATE_DIR,
  appsDir: APPS_DIR,
  unitTemplate: `/etc/systemd/system/${UNIT_TEMPLATE}`,
  unitDropInDir: `/etc/systemd/system/${UNIT_TEMPLATE}.d`,
  avahiService: '/etc/avahi/services/hearth.service',
  avahiServicesDir: '/etc/avahi/services',
  sudoers: '/etc/sudoers.d/hearth',
  libDir: LIB_DIR,
  /** The one command the hearth account may run as root (agent-protocol.ts). */
  agent: `${LIB_DIR}/agent`,
  /** The root helper that announced apps before the agent took over; provisioning removes it. */
  oldAdvertiseHelper: `${LIB_DIR}/advertise`,
  /** Left by an install whose app failed under KVM and then ran under emulation. */
  kvmUnusable: `${STATE_DIR}/kvm-unusable`,
  hearthHome: HEARTH_HOME,
  sshDir: `${HEARTH_HOME}/.ssh`,
  authorizedKeys: `${HEARTH_HOME}/.ssh/authorized_keys`,
} as const;

function checked(appId: AppId): AppId {
  // Every path below ends up in a shell word or a sudo argument: refuse, never escape.
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return appId;
}

/** The systemd unit that runs one app. */
export function appUnit(appId: AppId): string {
  return unitOf(checked(appId));
}

/**
 * The unit name for device-side scripts, around a shell expression that yields the id
 * (`"$a"`, `"$app"`) or a glob (`*`); the script itself must have validated the id.
 */
export function appUnitInShell(expression: string): string {
  return unitOf(expression);
}

/** The avahi file that announces one app while it runs (written by the root agent). */
export function appAvahiService(appId: AppId): string {
  return `${deviceLayout.avahiServicesDir}/${avahiFileOf(checked(appId))}`;
}

/** The announcement's file name for device-side scripts (see appUnitInShell). */
export function appAvahiFileInShell(expression: string): string {
  return avahiFileOf(expression);
}

/** One app's folder and what is in it. */
export function appPaths(appId: AppId) {
  const dir = `${APPS_DIR}/${checked(appId)}`;
  return {
    dir,
    spec: `${dir}/spec.json`,
    images: `${dir}/images`,
    image: (sha256: string) => `${dir}/images/${sha256}`,
    partialImage: (sha256: string) => `${dir}/images/.${sha256}.partial`,
    /** Symlink to images/<sha256>: the active image, switched atomically. */
    current: `${dir}/current`,
    previous: `${dir}/previous`,
    data: `${dir}/data`,
    /** Where the app came from ("catalog" or "file"); kept with the data when the app is removed. */
    origin: `${dir}/data/.hearth-origin`,
    volume: (name: string) => `${dir}/data/${name}.img`,
    /** A consistent copy of a volume taken for a backup run (`tag` names the run). */
    volumeCopy: (name: string, tag: string) => `${dir}/data/${name}.img.${tag}`,
    /** A volume received from a backup, verified, waiting to be swapped in. */
    restoredVolume: (name: string, tag: string) => `${dir}/data/${name}.img.restore-${tag}`,
    /** The live volume a restore replaced, kept until the restored app proved healthy. */
    replacedVolume: (name: string, tag: string) => `${dir}/data/${name}.img.replaced-${tag}`,
    /** Where a snapshot's detached worker leaves its verdict (and its pid, log, ...). */
    snapshotResult: (tag: string) => `${dir}/data/.hearth-snapshot-${tag}`,
    /** Held (flock) while a snapshot of the app's volumes runs, also after the laptop left. */
    copyLock: `${dir}/.hearth-copy.lock`,
    /** Sends one QMP command to the running VM (written by the QEMU launcher). */
    qmp: `${dir}/qmp`,
    run: `${dir}/run`,
    stop: `${dir}/stop`,
    consoleLog: `${dir}/console.log`,
    healthPattern: `${dir}/health-pattern`,
    advertise: `${dir}/advertise`,
    /** Small state files of later work (updates, backups), one name each. */
    state: (name: string) => `${dir}/state/${name}.json`,
  } as const;
}
