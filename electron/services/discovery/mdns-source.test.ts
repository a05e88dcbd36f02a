// Discovery believes mDNS only from a neighbour on the interface's own link, sending from
// the mDNS port, and only addresses on that link. Real UDP on loopback (never the real
// network): the interface is loopback presented as the LAN 127.0.0.0/29, so 127.0.0.2 is a
// neighbour, while 127.1.0.2 is another subnet and 127.0.0.53 a loopback address off this LAN.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiscoveryService } from './discovery-service';
import type { LanInterface } from './interfaces';
import { bonjourTransport } from './mdns-browser';
import { acceptsSender, isDeviceAddress } from './mdns-source';
import { freeUdpPort, serviceRecords } from './test-helpers';
import type { Rec } from './test-helpers';

const dnsPacket = createRequire(import.meta.url)('dns-packet') as {
  encode(packet: { type: 'response'; answers: Rec[] }): Buffer;
};

const smallLan = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.255.255.248',
      family: 'IPv4',
      mac: '',
      internal: false,
      cidr: null,
    },
  ],
});

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

async function socketAt(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(port, address, resolve));
  cleanup.push(() => socket.close());
  return socket;
}

function sshAnswer(host: string, addresses: string[]): Buffer {
  return dnsPacket.encode({
    type: 'response',
    answers: serviceRecords({
      type: '_ssh._tcp',
      instance: host,
      host: `${host}.local`,
      addresses,
    }),
  });
}

describe('mDNS from outside this link is ignored', () => {
  it('drops answers from another subnet or port, and addresses off the LAN', async () => {
    const port = await freeUdpPort();
    const service = new DiscoveryService({
      clock: { now: () => Date.now() },
      publish: () => undefined,
      interfaces: smallLan,
      mdnsTransport: (iface) =>
        bonjourTransport(iface, { port, bind: '127.0.0.1', ip: '127.0.0.1', multicast: false }),
    });
    cleanup.push(() => service.stop());
    service.start();
    const send = (from: Socket, bytes: Buffer) =>
      new Promise<void>((resolve) => from.send(bytes, port, '127.0.0.1', () => resolve()));
    const neighbour = await socketAt('127.0.0.2', port);
    const otherPort = await socketAt('127.0.0.2', 0);
    const otherSubnet = await socketAt('127.1.0.2', port);

    // The socket is listening once a neighbour's first answer is read.
    const seen = async (host: string, from: Socket, bytes: Buffer) =>
      vi.waitFor(
        async () => {
          await send(from, bytes);
          expect(service.list().map((d) => d.hostnames[0])).toContain(host);
        },
        { timeout: 5_000, interval: 100 },
      );
    await seen('ready.local', neighbour, sshAnswer('ready', ['127.0.0.5']));
    // Then the hostile ones; the neighbour's answer, sent last, proves they were all read.
    await send(otherPort, sshAnswer('wrong-port', ['127.0.0.3']));
    await send(otherSubnet, sshAnswer('other-subnet', ['127.0.0.4']));
    await send(neighbour, sshAnswer('points-home', ['127.0.0.1']));
    await seen(
      'pi.local',
      neighbour,
      sshAnswer('pi', ['127.0.0.2', '127.0.0.53', '8.8.8.8', '127.0.0.1']),
    );
    const at = (host: string) => service.list().find((d) => d.hostnames.includes(host));
    // Only the on-link address survives: no loopback elsewhere, no Internet host, not us.
    expect(at('pi.local')?.addresses).toEqual(['127.0.0.2']);
    expect(at('points-home.local')?.addresses).toEqual([]);
    expect(at('wrong-port.local')).toBeUndefined();
    expect(at('other-subnet.local')).toBeUndefined();
  });
});

describe('the rules, one by one', () => {
  const eth0: LanInterface = {
    name: 'eth0',
    address: '192.168.1.2',
    netmask: '255.255.255.0',
    prefixLength: 24,
  };

  it('a sender must be a neighbour on port 5353', () => {
    expect(acceptsSender(eth0, { address: '192.168.1.10', port: 5353 })).toBe(true);
    expect(acceptsSender(eth0, { address: '192.168.1.10', port: 40000 })).toBe(false);
    expect(acceptsSender(eth0, { address: '192.168.2.10', port: 5353 })).toBe(false);
    expect(acceptsSender(eth0, { address: '127.0.0.1', port: 5353 })).toBe(false);
    expect(acceptsSender(eth0, { address: 'fe80::1', port: 5353 })).toBe(false);
  });

  it('a device address is on the subnet, and neither us nor its network or broadcast', () => {
    expect(isDeviceAddress(eth0, '192.168.1.10')).toBe(true);
    for (const address of ['127.0.0.1', '8.8.8.8', '192.168.1.2', '192.168.1.0', '192.168.1.255'])
      expect(isDeviceAddress(eth0, address)).toBe(false);
  });
});
