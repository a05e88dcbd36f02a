// What "prepared by this Hearth" means: a digest of every file preparing a device writes that
// is the same on every device (the root agent, its sudo rule, the unit templates, the backup
// script and rules). A Hearth whose files differ from the ones a device got does things that
// device cannot do yet (a verb its agent lacks, a unit it has not got), so the device is shown
// as needing "Prepare again" before something fails in an owner's face.
import { createHash } from 'node:crypto';
import { agentScript } from '../device/agent-script';
import {
  backupServiceTemplate,
  backupTimerTemplate,
  peerBackupScript,
  peerSshdDropIn,
} from '../device/peer-backups';
import { updateStepScript } from '../device/update-step-script';
import {
  appUnitTemplate,
  sudoersDropIn,
  updateRecoveryUnitTemplate,
  xenBackupDropIn,
  xenUnitDropIn,
} from './device-files';

/** The files' texts, in the order they are digested. */
export function contractFiles(): string[] {
  return [
    agentScript(),
    updateStepScript(),
    sudoersDropIn(),
    appUnitTemplate(),
    updateRecoveryUnitTemplate(),
    xenUnitDropIn(),
    xenBackupDropIn(),
    peerBackupScript(),
    backupServiceTemplate(),
    backupTimerTemplate(),
    peerSshdDropIn(),
  ];
}

/** 16 hex digits of sha256 over the files, each preceded by its length (no two lists collide). */
export function contractOf(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const text of files) hash.update(`${Buffer.byteLength(text)}\n`).update(text);
  return hash.digest('hex').slice(0, 16);
}

/** This Hearth's contract: what a device it prepares records as `preparedWith`. */
export const DEVICE_CONTRACT = contractOf(contractFiles());
