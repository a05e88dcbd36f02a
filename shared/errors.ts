// Stable error codes and the sentence an owner reads for each. Codes never change once
// shipped (tests and the UI key on them); messages may be improved.

export const errorMessages = {
  INVALID_INPUT: 'Hearth received a request it could not understand. Please try again.',
  FORBIDDEN_SENDER: 'This request came from somewhere Hearth does not trust, so it was ignored.',
  UNKNOWN_CHANNEL: 'Hearth does not know how to do that yet.',
  NOT_FOUND: 'Hearth could not find what you asked for. It may already be gone.',
  CANCELLED: 'Cancelled.',
  DISK_FULL:
    "Your computer's disk is full, so Hearth could not save. Free some space and try again.",
  STORAGE_FAILED:
    'Hearth could not save its settings on this computer. Check that your disk is working and try again.',
  DISCONNECTED:
    'Hearth lost its connection to its background service. Reload the window to reconnect.',
  INTERNAL:
    'Something went wrong inside Hearth. Please try again; if it keeps happening, restart Hearth.',
  // Talking to devices
  DEVICE_UNREACHABLE:
    'Hearth could not reach the device. Check that it is switched on and connected to your home network.',
  DEVICE_REFUSED:
    'The device answered but does not accept sign-ins (SSH is not running on it). Turn on SSH on the device and try again.',
  DEVICE_TIMEOUT:
    'The device took too long to answer. Check that it is switched on and connected, then try again.',
  CONNECTION_LOST:
    'The connection to the device was lost. Check its network connection and try again; Hearth will pick up where it stopped.',
  WRONG_PASSWORD:
    'The device did not accept that user name and password. Check them and try again.',
  HOST_KEY_CHANGED:
    "This device's identity has changed since Hearth last saw it, so Hearth did not connect or send anything to it.",
  HOST_KEY_NOT_CONFIRMED: "Hearth did not connect because the device's identity was not confirmed.",
  DEVICE_GARBLED:
    'The device sent an answer Hearth could not understand. Try again; if it keeps happening, restart the device.',
  COMMAND_TIMEOUT:
    'The device stopped responding in the middle of a step. Check that it is still on and try again.',
  SUDO_REFUSED:
    'The device did not allow this user to make system changes (administrator rights). Use an account that can, or give this one administrator rights.',
  SUDO_PASSWORD_NEEDED:
    'The device asks for the password again to make system changes. Enter the password for this user.',
  NOT_DEBIAN:
    'Hearth can prepare devices running Debian or Raspberry Pi OS. This device runs something else.',
  NO_SYSTEMD:
    'This device does not use systemd, which Hearth needs to look after apps. Hearth supports Debian and Raspberry Pi OS as they are installed.',
  NO_VIRTUALIZATION:
    'This device cannot run the apps Hearth installs: it has no Xen, KVM or QEMU, and none can be installed.',
  DISK_NEARLY_FULL:
    'The device is nearly out of storage space. Free some space on it and try again.',
  // Apps on devices
  DEVICE_STEP_FAILED:
    'The device could not finish what Hearth asked of it. Try again; Hearth picks up where it stopped.',
  DEVICE_NEEDS_PREPARING:
    'This device was prepared by an older Hearth, which looked after apps differently. Prepare it again (Devices, then Prepare again); its apps and their data stay as they are.',
  APP_NOT_ON_DEVICE: 'Hearth does not see that app on that device any more.',
  APP_DAMAGED_IN_TRANSIT:
    'The app arrived damaged on the device, so Hearth threw that copy away. Try again.',
  APP_NOT_READY: 'The app started but did not become ready. Open its console to see what it says.',
  APP_KEEPS_STOPPING:
    'The app stopped right after it started, so the device stopped trying. Its data is safe.',
  APP_UNSUITABLE: 'This app cannot run on that device.',
  SOLO5_DEVICE_MISSING:
    'This unikernel needs a device (a network or a storage volume) that Hearth cannot give it, so Hearth did not install it.',
  APP_ID_TAKEN: 'That device already has many apps with this name. Choose another name.',
  NO_FILE_DIALOG:
    'Choosing a file from this computer needs the Hearth desktop app; this browser window cannot open one.',
  KEY_VAULT_UNAVAILABLE:
    "Hearth could not use this computer's secure storage to protect its key. Unlock your keyring, or allow Hearth to store it less securely, and try again.",
  // Identity
  IMPERSONATION:
    'This device uses the name of a device Hearth already knows but proves a different identity, so Hearth did not sign in or send anything to it.',
  DEVICE_ID_TAKEN:
    'This device says it is a device Hearth already knows, but it proves a different identity, so Hearth did not save it. If you set that device up again from scratch, forget it in Devices first.',
  // Backups
  BACKUPS_NOT_SET_UP:
    'Backups are not set up yet. Choose where they go and keep your recovery kit first.',
  BACKUP_KIT_NOT_KEPT:
    'Hearth waits for you to keep your recovery kit before the first backup: without it, nobody could open the backups if this computer were lost.',
  BACKUP_WRONG_PASSWORD:
    'That password does not open these backups. Check it against your recovery kit and try again.',
  BACKUP_NO_REPOSITORY:
    'Hearth found no backups in that folder. Check that the drive is plugged in and the folder is the one on your recovery kit.',
  BACKUP_FOLDER_NOT_EMPTY:
    'That folder already holds other files. Choose an empty folder, or a new one, for your backups.',
  BACKUP_LOCKED:
    'Another backup program is working on these backups right now. Hearth will try again later.',
  BACKUP_DISK_FULL:
    'The disk that holds your backups is full. Free some space on it, or choose a bigger drive, and try again.',
  BACKUP_DEVICE_DISK_FULL:
    "The device's disk is too full for the copy a backup needs; nothing was left behind. Free some space on the device (remove an app you no longer use) and try again.",
  BACKUP_DAMAGED:
    'Hearth checked your backups and found damage. Take a new backup now; Hearth keeps the copies that are still whole.',
  BACKUP_FAILED: 'The backup did not finish. Hearth will try again at the next chance.',
  BACKUP_BUSY:
    'This app is being backed up or updated right now. Wait for that to finish, then try again.',
  RESTORE_CHECKSUM_MISMATCH:
    'The restored data did not arrive on the device intact, so Hearth left the app with its own data. Try the restore again.',
  RESTORE_NOT_HEALTHY:
    'The app did not start with the restored data, so Hearth put its own data back and started it again.',
  RESTIC_MISSING:
    'Hearth could not find its backup engine (restic) on this computer. Reinstall Hearth, or install restic, and try again.',
  // Hearth's own updates
  SELF_UPDATE_FAILED:
    'Hearth could not download its update, or the download did not check out, so it keeps running the version you have and will try again tomorrow.',
  SELF_UPDATE_NONE: 'There is no Hearth update waiting to be installed.',
  // Updates
  UPDATE_DISK_FULL:
    "The device's disk is too full to keep a copy of the app's data during the update, so Hearth did not update it. Free some space on the device and try again.",
  UPDATE_ROLLED_BACK:
    'The new version did not start, so Hearth went back to the version before, with its data.',
  UPDATE_FAILED:
    'The update did not finish. The app runs the version it had before; try again later.',
  UPDATE_NOT_OFFERED:
    'The catalog no longer offers that version. Check for updates again to see what it offers now.',
  NO_PREVIOUS_VERSION:
    'The device no longer keeps the version before this one, so Hearth cannot go back to it.',
  // Preparing devices
  DEVICE_TAMPERED:
    'Something Hearth keeps on this device is not as Hearth left it, so Hearth stopped without changing it. Someone may have tampered with the device: check it, or reinstall it, then prepare it again.',
  HEARTH_ACCOUNT_TAKEN:
    'This device already has an account called hearth that Hearth did not make, so Hearth left it alone. Remove or rename that account, then prepare the device again.',
} as const;

export type ErrorCode = keyof typeof errorMessages;

export interface SerializedError {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorMessages, value);
}

/** An error an owner can act on: a stable code plus a plain sentence. */
export class HearthError extends Error {
  readonly code: ErrorCode;

  constructor(
    code: ErrorCode,
    message: string = errorMessages[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HearthError';
    this.code = code;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message };
  }
}

/** Anything thrown becomes a SerializedError; internals (stacks, paths) never cross the wire. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof HearthError) return error.toJSON();
  return { code: 'INTERNAL', message: errorMessages.INTERNAL };
}

export function deserializeError(value: unknown): HearthError {
  if (typeof value === 'object' && value !== null) {
    const { code, message } = value as Record<string, unknown>;
    if (isErrorCode(code)) {
      return new HearthError(
        code,
        typeof message === 'string' && message ? message : errorMessages[code],
      );
    }
  }
  return new HearthError('INTERNAL');
}
