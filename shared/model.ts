// Types that cross the contract. Plain data only: everything here must survive
// structured clone (Electron IPC) and JSON (browser mode).
import type { SerializedError } from './errors';
import type { DeviceHypervisor } from './runtimes';

export type TaskState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** How far a task is; `done` may be fractional while a step is part-way. */
export interface TaskProgress {
  done: number;
  total: number;
  unit: 'steps' | 'bytes';
}

export type StepState =
  'pending' | 'running' | 'done' | 'already-done' | 'warning' | 'failed' | 'skipped';

export interface TaskStep {
  label: string;
  state: StepState;
  /** A sentence for the owner: what happened, or what to do. */
  note?: string;
}

export interface TaskSnapshot {
  id: string;
  kind: string;
  title: string;
  state: TaskState;
  progress: TaskProgress | null;
  /** What the task is doing right now, in plain words. */
  detail: string | null;
  steps: TaskStep[];
  cancellable: boolean;
  startedAt: number;
  endedAt: number | null;
  /** A one-line outcome once finished. */
  summary: string | null;
  error: SerializedError | null;
}

export type ThemePreference = 'system' | 'light' | 'dark';

export interface Settings {
  theme: ThemePreference;
  /** The owner has seen the first-run welcome. */
  welcomeDone: boolean;
  /**
   * The owner agreed that, where this computer has no usable keyring, Hearth's key may be
   * kept protected only by file permissions.
   */
  allowUnprotectedKey: boolean;
  /** Hearth starts (in the tray) when the owner logs in to this computer. */
  startAtLogin: boolean;
  /** The owner was told, once, that closing the window leaves Hearth running in the tray. */
  closeToTrayNoticeShown: boolean;
}

export interface AppInfo {
  name: string;
  version: string;
  /** Whether the UI runs inside the desktop app or in a browser (development and tests). */
  shell: 'electron' | 'browser';
  platform: string;
}

export interface DeviceCapabilities {
  arch: 'x86_64' | 'aarch64' | 'armv7' | 'armv6' | 'other';
  rawArch: string;
  os: { id: string; name: string; version: string; debianFamily: boolean };
  xenDom0: boolean;
  /** /dev/kvm exists; whether it really works is proven by a probe boot at install time. */
  kvmDevice: boolean;
  qemu: boolean;
  /** Solo5's tenders found on the device (deviceRuntimes says which of them it can use). */
  solo5Hvt: boolean;
  /** solo5-spt found, and the kernel has seccomp filters (spt's sandbox). */
  solo5Spt: boolean;
  restic: boolean;
  avahi: boolean;
  systemd: boolean;
  memoryBytes: number | null;
  freeDiskBytes: number | null;
}

/** A device seen on the network (or entered by address) that may become a Hearth device. */
export interface DiscoveredDevice {
  /** Identity: Hearth id, else SSH host key fingerprint, else provisional host name. */
  key: string;
  name: string;
  hostnames: string[];
  addresses: string[];
  interfaces: string[];
  services: ('hearth' | 'ssh' | 'sftp-ssh' | 'workstation')[];
  sshPort?: number;
  hearthId?: string;
  arch?: string;
  hypervisor?: string;
  hostKeyFingerprint?: string;
  sshBanner?: string;
  kind: 'hearth' | 'candidate';
  /** What it is, in plain words: "Raspberry Pi running Debian". */
  description: string;
  source: 'mdns' | 'manual' | 'scan';
  lastSeen: number;
}

/** A device Hearth has prepared and looks after. */
export interface DeviceRecord {
  id: string;
  name: string;
  hostKeyFingerprint: string;
  /** Where it was last reached; identity never depends on these. */
  addresses: string[];
  hostname: string;
  sshPort: number;
  capabilities: DeviceCapabilities;
  hypervisor: DeviceHypervisor;
  provisionedAt: number;
  /**
   * The contract (a digest of the files preparing writes) of the Hearth that last prepared it;
   * absent for a device prepared before Hearth recorded it.
   */
  preparedWith?: string;
  /** Prepared by a Hearth whose device files differ from this one's: "Prepare again". */
  needsPreparing?: boolean;
}

/** The device's identity as the owner confirms it in the wizard. */
export interface DeviceIdentity {
  address: string;
  port: number;
  fingerprint: string;
  /** OpenSSH-style "randomart": a picture of the fingerprint that is easier to compare. */
  art: string[];
  /** Set when Hearth knew this device under a different key: the owner must see both. */
  previousFingerprint: string | null;
  /**
   * Set when this device, somewhere else, uses the Hearth id or name of a device Hearth knows
   * under another key: it is not that device, and the owner must be told so by name.
   */
  impersonates: { name: string; fingerprint: string } | null;
}

/** An app offered by a catalog Hearth trusts. */
export interface CatalogApp {
  id: string;
  name: string;
  summary: string;
  description: string;
  /** An SVG, as text; shown only as an image. */
  icon: string | null;
  version: string;
  /** Kinds of device it has builds for, e.g. "qemu-x86_64". */
  targets: string[];
  catalogName: string;
  /** What changed in the newest version, plain text in paragraphs (a build service's builds). */
  changes?: string;
}

export type AppState =
  | 'installing'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  /** Stopped by the device after an idle time; the first visit to its port starts it. */
  | 'sleeping'
  | 'crashed'
  | 'restarting'
  | 'gave-up'
  | 'offline';

/** An app installed on a device, as the device last reported it. */
export interface InstalledApp {
  deviceId: string;
  deviceName: string;
  appId: string;
  name: string;
  version: string;
  state: AppState;
  /** How often systemd restarted it since it was last started by the owner. */
  restarts: number;
  /** When the current run started (ms since epoch), while it runs. */
  runningSince: number | null;
  memoryBytes: number | null;
  memoryMiB: number;
  /** Where the owner can open it, e.g. http://living-room-pi.local:8080/ */
  links: { name: string; url: string }[];
  /** A plain sentence when something needs the owner ("It kept stopping, so …"). */
  message: string | null;
  /** "Sleep when idle": the idle time in minutes, or null when the app always runs. */
  sleepIdleMinutes?: number | null;
}

/** What Hearth learned from reading an image file the owner chose. */
export type ImageFacts =
  | {
      kind: 'solo5';
      /** The Solo5 target it was built for (its ABI1 note); 'unknown' when it has none. */
      abi: 'hvt' | 'spt' | 'virtio' | 'muen' | 'genode' | 'xen' | 'unknown';
      arch: 'x86_64' | 'aarch64';
      /** Its manifest's network and block devices, by the names the image uses. */
      networks: string[];
      blocks: string[];
    }
  | {
      kind: 'kernel';
      /** How it boots: a multiboot or PVH header, a Linux kernel, or a plain ELF (ARM). */
      format: 'multiboot' | 'pvh' | 'linux' | 'elf';
      arch: 'x86' | 'x86_64' | 'aarch64';
    }
  | { kind: 'unknown'; reason: string };

/** The resources of an app installed from a file, as the owner's form sets them. */
export interface ImageResources {
  memoryMiB: number;
  /** How the image reaches its storage: legacy IDE (simple kernels) or virtio. */
  disk: 'ide' | 'virtio';
  volumes: { name: string; sizeMiB: number }[];
  ports: { guest: number; host: number; protocol: 'tcp' | 'udp'; service?: string }[];
  bootArgs: string;
  health:
    | { kind: 'console'; pattern: string }
    | { kind: 'tcp'; port: number }
    | { kind: 'http'; port: number; path: string };
}

/** An image file the owner chose, read and checked by the app; install it by its token. */
export interface ChosenImage {
  /** Stands for the file for a while; the renderer never handles its path. */
  token: string;
  fileName: string;
  size: number;
  sha256: string;
  facts: ImageFacts;
  /** Kinds of device it can run on ("qemu-x86_64"), as CatalogApp.targets. */
  targets: string[];
  /** Why it cannot be installed on any device, as a sentence; null when it can. */
  problem: string | null;
  /** Hearth's suggestion for the form. */
  suggested: ImageResources;
}

// --- Backups ---------------------------------------------------------------------------------

/** Where one app's backups go. */
export type BackupDestination =
  /** The repository folder on this computer (BackupSetup.repository). */
  | { kind: 'computer' }
  /** Another Hearth device in the house, written by the app's device on its own timer. */
  | { kind: 'device'; deviceId: string; deviceName: string };

/** The backup repository on this computer, once the owner set it up. */
export interface BackupRepository {
  /** A folder on this computer or an external drive. */
  path: string;
  /** The owner said they kept the recovery kit; no backup runs before that. */
  kitConfirmed: boolean;
  createdAt: number;
}

export interface BackupSetup {
  /** Null until the owner has set up backups. */
  repository: BackupRepository | null;
  /** "Hearth Backups" in the owner's documents. */
  defaultPath: string;
}

/** The page the owner keeps: everything needed to open the backups without this computer. */
export interface RecoveryKit {
  /** The repository's password, in groups a person can copy by hand. */
  password: string;
  /** The password as a QR code, an SVG document. */
  qrSvg: string;
  /** Where the backups are, in words and as restic's repository string. */
  locations: { label: string; repository: string }[];
  /** The whole kit as a standalone HTML page, to save or print. */
  html: string;
  createdAt: number;
}

export interface BackupSchedule {
  enabled: boolean;
  /** How often, in hours (24 = daily, the default). */
  everyHours: number;
}

/** How one app's backups stand, for the Backups view. */
export interface AppBackupStatus {
  deviceId: string;
  deviceName: string;
  appId: string;
  appName: string;
  destination: BackupDestination;
  schedule: BackupSchedule;
  /** When the newest complete backup was taken (ms since epoch). */
  lastBackupAt: number | null;
  /** When a backup was last read back and found whole (a check or a restore drill). */
  lastVerifiedAt: number | null;
  /** The newest backup's size (all of its volumes). */
  sizeBytes: number | null;
  /** When the next scheduled run is due; null when the schedule is off or not set up. */
  nextRunAt: number | null;
  /** Past due by more than a day's grace. */
  overdue: boolean;
  /** The last run's failure as a sentence, until a run succeeds. */
  lastError: string | null;
  /** The task of a backup, restore or drill of this app that is running now. */
  runningTaskId: string | null;
  /** The last restore drill: restored into a scratch copy, booted, health-checked. */
  lastDrill: { at: number; ok: boolean; message: string | null } | null;
}

/** One point in time an app can be restored to (all of its volumes, taken together). */
export interface BackupPoint {
  /** Stable id of the run that took it. */
  id: string;
  deviceId: string;
  appId: string;
  appName: string;
  appVersion: string;
  takenAt: number;
  sizeBytes: number;
  volumes: string[];
  /**
   * The device that keeps this copy (a backup to another device in the house), read through it;
   * absent: the backups on this computer.
   */
  heldBy?: string;
}

/** How an installed app takes a newer version its catalog offers (off, "ask me", by default). */
export type UpdatePolicy = 'ask' | 'auto';

/** A newer version of an installed app that its catalog offers and its device can run. */
export interface UpdateOffer {
  version: string;
  /** The catalog's release notes for that version, as plain text; empty when it gave none. */
  releaseNotes: string;
}

/** How the last update (or "go back") of an app ended, in a sentence for its owner. */
export interface UpdateOutcome {
  at: number;
  /** 'updated' committed; 'rolled-back' the new version failed and the old one is back. */
  kind: 'updated' | 'rolled-back' | 'went-back' | 'failed';
  message: string;
}

/** Where one installed app stands with updates, for the Apps view (and the tray's alerts). */
export interface AppUpdateStatus {
  deviceId: string;
  appId: string;
  appName: string;
  installedVersion: string;
  /** A newer version that suits this device; null when up to date or installed from a file. */
  available: UpdateOffer | null;
  policy: UpdatePolicy;
  /** The version "Go back to the previous version" returns to, while its image is kept. */
  previousVersion: string | null;
  /** The task of an update or "go back" of this app that is running now. */
  runningTaskId: string | null;
  lastOutcome: UpdateOutcome | null;
  /**
   * Why the app's catalog could not be read again (e.g. it sent an older copy of itself, which
   * Hearth refused), as the owner's sentence; absent when its latest read went well. The offer
   * above then comes from the last good copy.
   */
  catalogProblem?: string;
}

// --- Alerts ----------------------------------------------------------------------------------

/** What an alert is about; one key (below) per thing it concerns, whichever kind it has now. */
export type AlertKind =
  | 'device-offline'
  | 'device-identity-changed'
  | 'device-disk-full'
  | 'device-needs-preparing'
  | 'app-crashed'
  | 'app-restarting'
  | 'app-gave-up'
  | 'backup-failed'
  | 'backup-overdue'
  | 'drill-failed'
  | 'update-available'
  | 'update-rolled-back';

/** 'problem': something is down or unsafe; 'warning': it will be soon; 'info': good to know. */
export type AlertSeverity = 'info' | 'warning' | 'problem';

/** Where the one action that fixes an alert takes the owner (a view, at a device or app). */
export interface AlertTarget {
  view: 'devices' | 'apps' | 'backups' | 'activity';
  deviceId?: string;
  appId?: string;
  /**
   * What to open there: a failing app's console says why it fails; a device prepared by an
   * older Hearth is prepared again.
   */
  show?: 'console' | 'prepare-again';
}

export interface AlertAction {
  label: string;
  target: AlertTarget;
}

/** Something that needs the owner, or (resolved) a quiet note that it no longer does. */
export interface Alert {
  /**
   * Stable for the thing concerned ("device-offline:<deviceId>", "app:<deviceId>/<appId>"): an
   * alert is raised once per key and updated in place while it stays open (an app that went
   * from crashed to gave-up keeps its key, its kind and sentence change).
   */
  key: string;
  kind: AlertKind;
  severity: AlertSeverity;
  /** A sentence an owner understands: what is wrong and what to do. */
  message: string;
  action: AlertAction | null;
  /**
   * When the owner was first told. An alert that comes back soon after it resolved (a flapping
   * device) is reopened with its old raisedAt, so a notifier keyed on it speaks up once.
   */
  raisedAt: number;
  /** Set on history entries: when the condition cleared. */
  resolvedAt: number | null;
  deviceId?: string;
  appId?: string;
}

/** The household at a glance, for the tray: the worst open alert decides. */
export type OverallState = 'all-well' | 'needs-attention' | 'problem';

export interface AlertsSnapshot {
  /** Open alerts, worst first, then newest. */
  open: Alert[];
  /** Resolved alerts (severity info, resolvedAt set), newest first, bounded. */
  history: Alert[];
  overall: OverallState;
  /** One line for the tray: "3 devices, 5 apps running". */
  summary: string;
}
