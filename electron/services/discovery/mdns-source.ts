// Which mDNS packets, and which addresses in them, to believe on one interface. mDNS is
// link-local (RFC 6762): a real responder sends from port 5353 (section 6) and lives on the
// link it answers on. A packet from elsewhere (a routed sender, a process on this computer
// using another port) or an address off the link (loopback, an Internet host, this
// computer itself) would point Hearth, and the owner's password, at something that is not
// a device in this home. Pure.
import type { LanInterface } from './interfaces';
import { ipToInt } from './interfaces';
import { isIPv4 } from './sanitize';

export const MDNS_PORT = 5353;

function maskOf(prefixLength: number): number {
  return prefixLength <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefixLength, 32))) >>> 0;
}

/** True when `address` lies inside the interface's own subnet. */
export function onSubnet(iface: LanInterface, address: unknown): address is string {
  if (!isIPv4(address) || iface.prefixLength <= 0) return false;
  const mask = maskOf(iface.prefixLength);
  return (ipToInt(address) & mask) >>> 0 === (ipToInt(iface.address) & mask) >>> 0;
}

/** A response worth reading: from the mDNS port, sent by a neighbour on this link. */
export function acceptsSender(
  iface: LanInterface,
  sender: { address?: unknown; port?: unknown },
  mdnsPort = MDNS_PORT,
): boolean {
  return sender.port === mdnsPort && onSubnet(iface, sender.address);
}

/** An address a device on this link can have: on the subnet, not its network or broadcast, not us. */
export function isDeviceAddress(iface: LanInterface, address: unknown): address is string {
  if (!onSubnet(iface, address) || address === iface.address) return false;
  if (iface.prefixLength >= 31) return true;
  const host = ipToInt(address) & ~maskOf(iface.prefixLength);
  return host !== 0 && host >>> 0 !== ~maskOf(iface.prefixLength) >>> 0;
}
