// Which http links may leave the app: exactly the "Open" links the owner's apps publish now,
// and only while their host is that very device (one of its addresses, or its .local name).
// A link is read back from the device, so a device could otherwise make Hearth open any
// http address in the owner's browser; this keeps the door to the device itself and to the
// ports its apps publish. Pure: main feeds it the apps and devices it knows.
import type { DeviceRecord, InstalledApp } from '../../shared/model';

const hostLabel = /^[A-Za-z0-9-]{1,63}$/;

/** The hosts a device answers to in a link: its addresses and `<hostname>.local`. */
export function deviceHosts(device: Pick<DeviceRecord, 'addresses' | 'hostname'>): Set<string> {
  const hosts = new Set(device.addresses.map((a) => a.toLowerCase()));
  if (hostLabel.test(device.hostname)) hosts.add(`${device.hostname.toLowerCase()}.local`);
  return hosts;
}

function normalized(raw: string): URL | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

export function isPublishedDeviceLink(
  raw: string,
  apps: readonly Pick<InstalledApp, 'deviceId' | 'links'>[],
  devices: readonly Pick<DeviceRecord, 'id' | 'addresses' | 'hostname'>[],
): boolean {
  const url = normalized(raw);
  if (!url || url.username !== '' || url.password !== '') return false;
  // IPv6 literals come back bracketed from URL; addresses are stored without brackets.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return apps.some((app) => {
    const device = devices.find((d) => d.id === app.deviceId);
    if (!device || !deviceHosts(device).has(host)) return false;
    // Compared as browsers see them (case of the host, default ports), so the URL Chromium
    // hands over matches the one the card shows.
    return app.links.some((link) => normalized(link.url)?.href === url.href);
  });
}
