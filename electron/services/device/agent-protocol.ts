// The laptop side of the device's root agent: the one command the hearth account may run as
// root (sudoers names it alone, with no wildcard). The agent validates the verb and the app id
// itself; these lists are what both sides agree on, and the agent script (agent-script.ts) is
// generated from them. Later verbs are added here and there.
import type { AppId } from '../../../shared/ids';
import { isAppId, isDeviceId } from '../../../shared/ids';
import { backupTimer, deviceLayout, solo5Network } from './layout';

/** Verbs the agent turns into `systemctl <verb> hearth-app@<id>.service`. */
export const agentUnitVerbs = [
  'start',
  'stop',
  'restart',
  'enable',
  'disable',
  'reset-failed',
] as const;

/** Verbs that write or remove an app's avahi file; the app's unit runs them (appUnitTemplate). */
export const agentAvahiVerbs = ['advertise', 'withdraw'] as const;

/**
 * Verbs that set up and take down a Solo5 tender app's network (its unit runs them around the
 * tender, as root): taps on the Hearth bridge and the forwards of its published ports, from the
 * app's `network` file (agentNetworkFile). An app with an empty file gets nothing.
 */
export const agentNetVerbs = ['net-up', 'net-down'] as const;

/**
 * Verbs that let an app sleep when idle (sleep-units.ts): `sleep-on` writes its socket and proxy
 * units from its `sleep` file and lets it sleep, `sleep-off` takes them away (the app is then
 * started as before), `wake-wait` is the proxy's wait until the woken app answers.
 */
export const agentSleepVerbs = ['sleep-on', 'sleep-off', 'wake-wait'] as const;

/**
 * Verbs that hold a Xen app's domain still while a backup copies its volumes (app-pause.ts):
 * `xl pause`/`unpause` need root. `pause` prints `paused` when it paused the domain and
 * `not-running` when there was nothing to pause; `resume` unpauses a paused domain only.
 */
export const agentPauseVerbs = ['pause', 'resume'] as const;

export const agentVerbs = [
  ...agentUnitVerbs,
  ...agentAvahiVerbs,
  ...agentNetVerbs,
  ...agentSleepVerbs,
  ...agentPauseVerbs,
] as const;

export type AgentVerb = (typeof agentVerbs)[number];

/** `sudo -n <agent> <verb> <app>`: one shell word each, nothing to quote (both validated). */
export function agentCommand(verb: AgentVerb, appId: AppId): string {
  if (!agentVerbs.includes(verb)) throw new Error(`not an agent verb: ${JSON.stringify(verb)}`);
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return `sudo -n ${deviceLayout.agent} ${verb} ${appId}`;
}

/**
 * The app's `network` file, as the agent reads it (and checks again, line by line): `nets N`
 * (one tap each), then `forward PROTO HOST GUEST` per published port.
 */
export function agentNetworkFile(
  nets: number,
  ports: readonly { protocol: 'tcp' | 'udp'; host: number; guest: number }[],
): string {
  if (!Number.isInteger(nets) || nets < 1 || nets > solo5Network.maxNets)
    throw new Error(`not a number of networks: ${nets}`);
  const forwards = ports.map((p) => `forward ${p.protocol} ${p.host} ${p.guest}\n`);
  return `nets ${nets}\n${forwards.join('')}`;
}

// --- Backups to another Hearth device (peer-backups.ts) -------------------------------------

/** `backup-on APP MINUTES` / `backup-off APP`: the app's backup timer on this (source) device. */
export const agentBackupVerbs = ['backup-on', 'backup-off'] as const;
/** `peer-allow SOURCE KEY` / `peer-revoke SOURCE`: a source device's account on this target. */
export const agentPeerVerbs = ['peer-allow', 'peer-revoke'] as const;
/**
 * Reading, on this target, the copies other devices keep here, so they can be restored when
 * their own device is dead: `peer-snapshots` lists every source account's snapshots, and
 * `peer-dump SOURCE APP SNAPSHOT` writes one snapshot's tar to stdout. Both take the backups'
 * password as the first line of stdin (never on a command line) and run restic as the source's
 * own account, without locking, so the copies are only ever read.
 */
export const agentPeerReadVerbs = ['peer-snapshots', 'peer-dump'] as const;

/**
 * The intervals a backup timer can keep on a calendar (so `Persistent=true` catches up on a run
 * missed while the device was off): minutes dividing an hour, or hours dividing a day.
 */
export function isBackupInterval(minutes: number): boolean {
  if (!Number.isInteger(minutes) || minutes < 1) return false;
  if (minutes < 60) return 60 % minutes === 0;
  return minutes % 60 === 0 && 24 % (minutes / 60) === 0;
}

/** systemd's OnCalendar for an interval (the agent computes the same itself). */
export function backupCalendar(minutes: number): string {
  if (!isBackupInterval(minutes)) throw new Error(`not a backup interval: ${minutes}`);
  return minutes < 60 ? `*-*-* *:00/${minutes}:00` : `*-*-* 00/${minutes / 60}:00:00`;
}

/** The base64 of an ed25519 public key blob: its type prefix and 32 bytes, 68 characters. */
export const ED25519_BLOB = /^AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/;

/** Turns the app's backup timer on at an interval (minutes), or off. */
export function agentBackupCommand(appId: AppId, minutes: number | null): string {
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  backupTimer(appId);
  if (minutes === null) return `sudo -n ${deviceLayout.agent} backup-off ${appId}`;
  if (!isBackupInterval(minutes)) throw new Error(`not a backup interval: ${minutes}`);
  return `sudo -n ${deviceLayout.agent} backup-on ${appId} ${minutes}`;
}

/** What peer-snapshots says per source account: `ACCOUNT ok JSON` or `ACCOUNT failed WHY`. */
export const PEER_HELD_LINE =
  /^(hb-[0-9a-f]{12}) (?:ok (\[.*\])|failed (wrong-password|unreadable))$/;

/** A snapshot id as restic prints it (short or full). */
export const SNAPSHOT_ID = /^[0-9a-f]{8,64}$/;

/** Lists the snapshots every other device keeps on this one (the password goes on stdin). */
export function agentPeerSnapshotsCommand(): string {
  return `sudo -n ${deviceLayout.agent} peer-snapshots`;
}

/** One snapshot's tar, of a source device's app, to stdout (the password goes on stdin). */
export function agentPeerDumpCommand(sourceId: string, appId: AppId, snapshotId: string): string {
  if (!isDeviceId(sourceId)) throw new Error(`not a device id: ${JSON.stringify(sourceId)}`);
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  if (!SNAPSHOT_ID.test(snapshotId)) throw new Error('not a snapshot id');
  return `sudo -n ${deviceLayout.agent} peer-dump ${sourceId} ${appId} ${snapshotId}`;
}

/** Lets a source device's key in (SFTP in its own folder only), or takes it away. */
export function agentPeerCommand(sourceId: string, keyBlob: string | null): string {
  if (!isDeviceId(sourceId)) throw new Error(`not a device id: ${JSON.stringify(sourceId)}`);
  if (keyBlob === null) return `sudo -n ${deviceLayout.agent} peer-revoke ${sourceId}`;
  if (!ED25519_BLOB.test(keyBlob)) throw new Error('not an ed25519 public key');
  return `sudo -n ${deviceLayout.agent} peer-allow ${sourceId} ${keyBlob}`;
}
