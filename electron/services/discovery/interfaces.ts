// Which of this computer's network interfaces discovery uses, and the bounded set of
// neighbour addresses a scan may contact on each. Pure.
import type { NetworkInterfaceInfo } from 'node:os';
import { isIPv4 } from './sanitize';

export type InterfacesProvider = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface LanInterface {
  /** OS name, e.g. "wlan0". */
  name: string;
  address: string;
  netmask: string;
  prefixLength: number;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function prefixOf(netmask: string): number {
  if (!isIPv4(netmask)) return 32;
  const bits = ipToInt(netmask);
  let count = 0;
  for (let i = 31; i >= 0 && (bits >>> i) & 1; i--) count++;
  return count;
}

/** Every non-internal IPv4 address of this computer, one entry per address, sorted. */
export function selectInterfaces(all: NodeJS.Dict<NetworkInterfaceInfo[]>): LanInterface[] {
  const result: LanInterface[] = [];
  for (const [name, infos] of Object.entries(all)) {
    for (const info of infos ?? []) {
      const family = info.family as string | number;
      if (family !== 'IPv4' && family !== 4) continue;
      if (info.internal || !isIPv4(info.address)) continue;
      result.push({
        name,
        address: info.address,
        netmask: info.netmask,
        prefixLength: prefixOf(info.netmask),
      });
    }
  }
  return result.sort((a, b) => `${a.name}/${a.address}`.localeCompare(`${b.name}/${b.address}`));
}

/** A string that changes exactly when the set of usable interfaces changes. */
export function interfacesSignature(list: readonly LanInterface[]): string {
  return list.map((i) => `${i.name}=${i.address}/${i.prefixLength}`).join(',');
}

/**
 * The neighbour addresses a scan of this interface may contact: its directly connected
 * subnet, but never more than the /24 around this computer's own address. Skips /31 and
 * /32 links, the network and broadcast addresses, and this computer itself.
 */
export function scanTargets(iface: LanInterface): string[] {
  const prefix = Math.max(iface.prefixLength, 24);
  if (prefix >= 31) return [];
  const own = ipToInt(iface.address);
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  const network = (own & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  const targets: string[] = [];
  for (let n = network + 1; n < broadcast; n++) if (n !== own) targets.push(intToIp(n));
  return targets;
}

/** True when `address` lies inside the subnet (at most /24) that scanTargets covers. */
export function isOnScannableSubnet(iface: LanInterface, address: string): boolean {
  if (!isIPv4(address)) return false;
  const prefix = Math.max(iface.prefixLength, 24);
  if (prefix >= 31) return false;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return (ipToInt(address) & mask) >>> 0 === (ipToInt(iface.address) & mask) >>> 0;
}

/** The interface whose own subnet contains `address`, if any. */
export function interfaceFor(
  list: readonly LanInterface[],
  address: string,
): LanInterface | undefined {
  if (!isIPv4(address)) return undefined;
  const n = ipToInt(address);
  return list.find((i) => {
    if (i.prefixLength === 0) return false;
    const mask = (0xffffffff << (32 - i.prefixLength)) >>> 0;
    return (n & mask) >>> 0 === (ipToInt(i.address) & mask) >>> 0;
  });
}
