import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { interfaceFor, interfacesSignature, scanTargets, selectInterfaces } from './interfaces';

function info(address: string, netmask: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask, family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: null };
}

describe('selectInterfaces', () => {
  it('keeps every non-internal IPv4 address, one entry each', () => {
    const list = selectInterfaces({
      lo: [info('127.0.0.1', '255.0.0.0', true)],
      wlan0: [
        info('192.168.1.20', '255.255.255.0'),
        { ...info('fe80::1', 'ffff:ffff:ffff:ffff::'), family: 'IPv6', scopeid: 1 },
      ],
      docker0: [info('172.17.0.1', '255.255.0.0')],
      tun0: [info('10.8.0.2', '255.255.255.255')],
    });
    expect(list.map((i) => [i.name, i.address, i.prefixLength])).toEqual([
      ['docker0', '172.17.0.1', 16],
      ['tun0', '10.8.0.2', 32],
      ['wlan0', '192.168.1.20', 24],
    ]);
    expect(interfacesSignature(list)).toBe(
      'docker0=172.17.0.1/16,tun0=10.8.0.2/32,wlan0=192.168.1.20/24',
    );
    expect(interfaceFor(list, '192.168.1.7')?.name).toBe('wlan0');
    expect(interfaceFor(list, '8.8.8.8')).toBeUndefined();
  });
});

describe('scanTargets', () => {
  const iface = (address: string, prefixLength: number) => ({
    name: 'x',
    address,
    netmask: '',
    prefixLength,
  });
  it('covers the /24 without network, broadcast or this computer', () => {
    const t = scanTargets(iface('192.168.1.20', 24));
    expect(t).toHaveLength(253);
    expect(t).not.toContain('192.168.1.20');
    expect(t[0]).toBe('192.168.1.1');
    expect(t.at(-1)).toBe('192.168.1.254');
  });
  it('never grows beyond a /24, and narrows to smaller subnets', () => {
    const wide = scanTargets(iface('172.17.5.9', 16));
    expect(wide).toHaveLength(253);
    expect(wide.every((a) => a.startsWith('172.17.5.'))).toBe(true);
    expect(scanTargets(iface('10.0.0.5', 29))).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
      '10.0.0.4',
      '10.0.0.6',
    ]);
  });
  it('skips point-to-point links', () => {
    expect(scanTargets(iface('10.8.0.2', 32))).toEqual([]);
    expect(scanTargets(iface('10.8.0.2', 31))).toEqual([]);
  });
});
