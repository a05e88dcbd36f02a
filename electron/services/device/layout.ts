// Where everything Hearth keeps on a device lives (DESIGN.md, "A Hearth device"). This file and
// the rest of services/device/ are the only code that knows a device path or a unit name;
// provisioning, apps, backups and updates ask here.
import type { AppId } from '../../../shared/ids';
import { isAppId, isDeviceId } from '../../../shared/ids';

export const HEARTH_USER = 'hearth';
export const HEARTH_HOME = `/home/${HEARTH_USER}`;

/** systemd's template unit that runs apps, one instance per app id. */
const UNIT_TEMPLATE = 'hearth-app@.service';
const unitOf = (instance: string) => UNIT_TEMPLATE.replace('@', `@${instance}`);
const avahiFileOf = (instance: string) => `hearth-app-${instance}.service`;
/** The Xen domain that runs one app on a Xen host (xl's name for it). */
const xenDomainOf = (instance: string) => `hearth-${instance}`;
/**
 * systemd's template unit that settles an app's interrupted update before the app starts
 * (update-step-script.ts), one instance per app id; every start of the app pulls it in.
 */
const RECOVERY_TEMPLATE = 'hearth-update-recover@.service';

const STATE_DIR = '/var/lib/hearth';
const APPS_DIR = `${STATE_DIR}/apps`;
const LIB_DIR = '/usr/local/lib/hearth';
const PEER_DIR = `${STATE_DIR}/backup`;
/**
 * Each tender app's network slot and what its agent set up (solo5Network). Root's, outside the
 * hearth account's tree: root writes here, and a folder hearth owns could put a link in its place.
 */
const NET_DIR = '/var/lib/hearth-net';
/**
 * The units that keep a sleeping app's published port open (sleep-units.ts): per app and port a
 * socket and the proxy it starts, `hearth-sleep-<app>.<port>.socket|service`. Generated whole
 * by the root agent rather than templated, because one template instance cannot carry both an
 * app id and a port; the dot cannot occur in an app id, so `hearth-sleep-<app>.*` is exactly
 * one app's units.
 */
const sleepUnitOf = (instance: string, port: string, kind: 'socket' | 'service') =>
  `hearth-sleep-${instance}.${port}.${kind}`;
/** systemd's template units that back an app up to another device, one instance per app. */
const BACKUP_TEMPLATE = 'hearth-backup@';

export const deviceLayout = {
  /** { id, name, provisionedAt, hearthVersion }, owned by the hearth account. */
  deviceJson: '/etc/hearth/device.json',
  configDir: '/etc/hearth',
  stateDir: STATE_DIR,
  appsDir: APPS_DIR,
  unitTemplate: `/etc/systemd/system/${UNIT_TEMPLATE}`,
  unitDropInDir: `/etc/systemd/system/${UNIT_TEMPLATE}.d`,
  updateRecoveryTemplate: `/etc/systemd/system/${RECOVERY_TEMPLATE}`,
  avahiService: '/etc/avahi/services/hearth.service',
  avahiServicesDir: '/etc/avahi/services',
  sudoers: '/etc/sudoers.d/hearth',
  libDir: LIB_DIR,
  /** The one command the hearth account may run as root (agent-protocol.ts). */
  agent: `${LIB_DIR}/agent`,
  /** Moves an app between versions in crash-safe steps, as hearth (update-step-script.ts). */
  updateStep: `${LIB_DIR}/update-step`,
  /** The root helper that announced apps before the agent took over; provisioning removes it. */
  oldAdvertiseHelper: `${LIB_DIR}/advertise`,
  /** Left by an install whose app failed under KVM and then ran under emulation. */
  kvmUnusable: `${STATE_DIR}/kvm-unusable`,
  hearthHome: HEARTH_HOME,
  sshDir: `${HEARTH_HOME}/.ssh`,
  authorizedKeys: `${HEARTH_HOME}/.ssh/authorized_keys`,
  /** Backups to another Hearth device (peer-backups.ts), run by the device's own timer. */
  backupTemplate: `/etc/systemd/system/${BACKUP_TEMPLATE}.service`,
  backupTimerTemplate: `/etc/systemd/system/${BACKUP_TEMPLATE}.timer`,
  /** The script the backup unit runs as the hearth account (root-owned, like the agent). */
  peerBackupScript: `${LIB_DIR}/peer-backup`,
  /** The hearth account's backup folder: its own ssh key, one folder per target device. */
  peerBackupDir: PEER_DIR,
  peerBackupKey: `${PEER_DIR}/id_ed25519`,
  peerBackupCache: `${PEER_DIR}/cache`,
  /** Solo5 tender networking (agent verbs net-up/net-down): root-owned, readable by all. */
  netDir: NET_DIR,
  /** Serialises address allocation between apps starting at once. */
  netLock: `${NET_DIR}/.lock`,
  /** On a target device: the sshd rule that confines other devices' accounts to SFTP. */
  peerSshdDropIn: '/etc/ssh/sshd_config.d/hearth-peers.conf',
  peerGroup: 'hearth-peers',
  /** Root-owned: one authorized_keys file per peer account, which the account cannot change. */
  peerKeysDir: '/etc/hearth/peer-keys',
  /** Root-owned chroot folders, one per source device, each with a repo/ the account owns. */
  peerChrootsDir: '/srv/hearth-backups',
} as const;

/**
 * The device's Hearth bridge for Solo5 tender apps: one /24, the device at .1, each app one
 * address (its slot, 2-254, kept across restarts). The app's taps are named after its slot
 * (`hth<slot>n<index>`, within Linux's 15 characters), its forwards live in an nftables table
 * of its own (`hearth_<slot>`), so taking one app's network down touches no other.
 */
export const solo5Network = {
  bridge: 'hearth0',
  subnet: '10.213.0',
  prefix: 24,
  gateway: '10.213.0.1',
  firstSlot: 2,
  lastSlot: 254,
  /** At most this many networks per app (the agent creates one tap each). */
  maxNets: 4,
  tapInShell: (slot: string, index: string) => `hth${slot}n${index}`,
  tableInShell: (slot: string) => `hearth_${slot}`,
} as const;

/** What net-up wrote for one app (`tapN NAME`, `ipv4 A.B.C.D/P`, `gateway A.B.C.D` lines). */
export function appNetEnv(appId: AppId): string {
  return appNetEnvInShell(checked(appId));
}

/** The same file for device-side scripts (see appUnitInShell). */
export function appNetEnvInShell(expression: string): string {
  return `${NET_DIR}/${expression}.env`;
}

/** The app's network slot file (its address), for device-side scripts. */
export function appNetSlotInShell(expression: string): string {
  return `${NET_DIR}/${expression}.slot`;
}

/** Solo5's tender programs, and the folders besides the PATH where provisioning looks for them. */
export const solo5Tenders = ['solo5-hvt', 'solo5-spt'] as const;
export const solo5TenderDirs = ['/usr/bin', '/usr/local/bin'] as const;

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

/** The Xen domain of one app (its launcher creates it, the root agent pauses it for a copy). */
export function appXenDomain(appId: AppId): string {
  return xenDomainOf(checked(appId));
}

/** The domain name for device-side scripts (see appUnitInShell). */
export function appXenDomainInShell(expression: string): string {
  return xenDomainOf(expression);
}

/** The update-recovery unit of an app, around `%i` or a shell expression (see appUnitInShell). */
export function updateRecoveryUnitOf(instance: string): string {
  return RECOVERY_TEMPLATE.replace('@', `@${instance}`);
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
    /** Sends one QMP command to the running VM (QEMU's; a tender's answers the same ones). */
    qmp: `${dir}/qmp`,
    run: `${dir}/run`,
    stop: `${dir}/stop`,
    consoleLog: `${dir}/console.log`,
    healthPattern: `${dir}/health-pattern`,
    /** What a tender app's network needs (`nets N`, `forward tcp HOST GUEST`), read by net-up. */
    network: `${dir}/network`,
    advertise: `${dir}/advertise`,
    /** What a sleeping app's wake units need (`idle SECONDS`, `wake tcp HOST INTERNAL KIND`), read by sleep-on. */
    sleep: `${dir}/sleep`,
    /** Small state files of later work (updates, backups), one name each. */
    state: (name: string) => `${dir}/state/${name}.json`,
    /** What the device's own backup timer last did (peer-backups.ts). */
    peerStatus: `${dir}/state/peer-backup.json`,
    /**
     * The point the device's own timer saved last and what its data was (snapshot, image, spec
     * and per volume its size, sha256 and stat identity): a run whose copies are the same makes
     * no snapshot (peer-backups.ts), as the laptop's LastPoint does for its own runs.
     */
    peerLastPoint: `${dir}/state/peer-last-point`,
    /** Held (flock) by a backup or a restore of the app, so the two never overlap. */
    backupLock: `${dir}/state/backup.lock`,
    /** The paused-moment copies a device-side backup streams, removed when it ends. */
    backupWork: `${dir}/backup-work`,
    /** Where a restore unpacks and verifies a snapshot before swapping it in. */
    restoreDir: `${dir}/restore`,
  } as const;
}

/**
 * One of appPaths' names for a device-side script, below a shell expression for the app's folder
 * (`"$appdir"`): `appPathInShell('$appdir', (p) => p.volumeCopy('$v', '$tag'))`.
 */
export function appPathInShell(
  dirExpression: string,
  pick: (paths: ReturnType<typeof appPaths>) => string,
): string {
  const sample = appPaths('a');
  return `${dirExpression}${pick(sample).slice(sample.dir.length)}`;
}

/** A sleeping app's socket or proxy unit on one published port, for device-side scripts. */
export function sleepUnitInShell(
  expression: string,
  port: string,
  kind: 'socket' | 'service',
): string {
  return sleepUnitOf(expression, port, kind);
}

/** A sleeping app's socket unit on one published port. */
export function sleepSocketUnit(appId: AppId, port: number): string {
  return sleepUnitOf(checked(appId), String(port), 'socket');
}

/** systemd's socket proxy (systemd ≥ 246 for --exit-idle-time; Debian 11 has 247, 12 has 252). */
export const socketProxyd = '/lib/systemd/systemd-socket-proxyd';

/**
 * Where a sleeping app's runtime listens instead of its published port: loopback only, so the
 * socket unit can hold the published port on every address. A fixed shift, so the laptop and
 * the device agree without asking each other. (It can meet another app's published port; the
 * runtime then fails to start and says so.)
 */
export function wakeInternalPort(host: number): number {
  // A rotation of the port numbers by half: two apps' internal ports never meet.
  return ((host - 1 + 32_768) % 65_535) + 1;
}

/** The timer that backs one app up to another device on the device's own schedule. */
export function backupTimer(appId: AppId): string {
  return `${BACKUP_TEMPLATE.replace('@', `@${checked(appId)}`)}.timer`;
}

/** The timer's unit name for device-side scripts (see appUnitInShell). */
export function backupTimerInShell(expression: string): string {
  return `${BACKUP_TEMPLATE.replace('@', `@${expression}`)}.timer`;
}

/** What the hearth account keeps about one target device (a Hearth device id). */
export function peerTargetPaths(targetId: string) {
  if (!isDeviceId(targetId)) throw new Error(`not a device id: ${JSON.stringify(targetId)}`);
  const dir = `${PEER_DIR}/targets/${targetId}`;
  return {
    dir,
    /** The target's verified host key, under the alias `hearth-<id>` (never its address). */
    knownHosts: `${dir}/known_hosts`,
    /** The repository password (the laptop's, so one recovery kit opens both); 0600. */
    password: `${dir}/password`,
    /** `host ADDRESS`, `port N`, `user hb-…` lines. */
    conf: `${dir}/target.conf`,
  } as const;
}

/** Which target device one app is backed up to (a file holding its id). */
export function peerAppTarget(appId: AppId): string {
  return `${PEER_DIR}/apps/${checked(appId)}.target`;
}

/** The account a source device uses on a target: `hb-` and the first 12 hex of its id. */
export function peerAccount(sourceId: string): string {
  if (!isDeviceId(sourceId)) throw new Error(`not a device id: ${JSON.stringify(sourceId)}`);
  return `hb-${sourceId.replaceAll('-', '').slice(0, 12)}`;
}
