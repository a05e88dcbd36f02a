// The laptop side of the device's root agent: the one command the hearth account may run as
// root (sudoers names it alone, with no wildcard). The agent validates the verb and the app id
// itself; these lists are what both sides agree on, and the agent script (agent-script.ts) is
// generated from them. Later verbs (pause/resume, tap devices) are added here and there.
import type { AppId } from '../../../shared/ids';
import { isAppId, isDeviceId } from '../../../shared/ids';
import { backupTimer, deviceLayout } from './layout';

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

export const agentVerbs = [...agentUnitVerbs, ...agentAvahiVerbs] as const;

export type AgentVerb = (typeof agentVerbs)[number];

/** `sudo -n <agent> <verb> <app>`: one shell word each, nothing to quote (both validated). */
export function agentCommand(verb: AgentVerb, appId: AppId): string {
  if (!agentVerbs.includes(verb)) throw new Error(`not an agent verb: ${JSON.stringify(verb)}`);
  if (!isAppId(appId)) throw new Error(`not an app id: ${JSON.stringify(appId)}`);
  return `sudo -n ${deviceLayout.agent} ${verb} ${appId}`;
}

// --- Backups to another Hearth device (peer-backups.ts) -------------------------------------

/** `backup-on APP MINUTES` / `backup-off APP`: the app's backup timer on this (source) device. */
export const agentBackupVerbs = ['backup-on', 'backup-off'] as const;
/** `peer-allow SOURCE KEY` / `peer-revoke SOURCE`: a source device's account on this target. */
export const agentPeerVerbs = ['peer-allow', 'peer-revoke'] as const;

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

/** Lets a source device's key in (SFTP in its own folder only), or takes it away. */
export function agentPeerCommand(sourceId: string, keyBlob: string | null): string {
  if (!isDeviceId(sourceId)) throw new Error(`not a device id: ${JSON.stringify(sourceId)}`);
  if (keyBlob === null) return `sudo -n ${deviceLayout.agent} peer-revoke ${sourceId}`;
  if (!ED25519_BLOB.test(keyBlob)) throw new Error('not an ed25519 public key');
  return `sudo -n ${deviceLayout.agent} peer-allow ${sourceId} ${keyBlob}`;
}
