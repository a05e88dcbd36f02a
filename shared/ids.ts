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

/**
 * A DNS-SD service type (RFC 6763: underscore, 1-15 lower-case letters, digits and inner
 * hyphens, then _tcp or _udp), e.g. _http._tcp; the device's agent checks the same shape.
 */
export const serviceTypePattern = /^_[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?\._(?:tcp|udp)$/;

/**
 * The path of an "Open" link or HTTP health probe, right after http://host:port: one leading
 * "/" (so "//evil.example" cannot read as another host), RFC 3986 path and query characters
 * and well-formed %XX escapes; no backslash (browsers read it as "/"), spaces, control
 * characters or fragments.
 */
export const linkPathPattern =
  /^\/(?!\/)(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2}){0,199}$/;
