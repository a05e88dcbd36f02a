// The one pattern for the short names Hearth gives things on a device: app ids (a folder, a
// systemd instance, a QEMU name), volume names and port names. Lower-case letters, digits and
// dashes, starting with a letter, at most 32 characters: safe in a path, a unit name, a shell
// word and a sudo argument without quoting.
export const SHORT_NAME_SOURCE = '[a-z][a-z0-9-]{0,31}';
export const SHORT_NAME_MAX = 32;
export const shortNamePattern = new RegExp(`^${SHORT_NAME_SOURCE}$`);

/** An app's id on its device. */
export type AppId = string;

export function isAppId(value: unknown): value is AppId {
  return typeof value === 'string' && shortNamePattern.test(value);
}

/** A device's Hearth id (device.json's `id`, a UUID). */
export type DeviceId = string;
export const deviceIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isDeviceId(value: unknown): value is DeviceId {
  return typeof value === 'string' && deviceIdPattern.test(value);
}
