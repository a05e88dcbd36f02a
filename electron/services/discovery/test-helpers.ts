// Builders for mDNS packets and sightings used by several tests (not shipped code).
import { createSocket } from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import type { MdnsServiceSighting } from './types';

/** A UDP port nobody listens on, so a test's mDNS never meets the real 5353. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Loopback is "internal", so discovery would skip it: present it as a LAN interface. */
export const loopbackLan = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '',
      internal: false,
      cidr: null,
    },
  ],
});

export interface Rec {
  type: string;
  name: string;
  ttl: number;
  data: unknown;
  flush?: boolean;
}

/** The records avahi sends for one service: PTR, SRV, TXT and the host's A records. */
export function serviceRecords(options: {
  type: string;
  instance: string;
  host: string;
  addresses: string[];
  port?: number;
  txt?: string[];
  ttl?: number;
  hostTtl?: number;
}): Rec[] {
  const fqdn = `${options.instance}.${options.type}.local`;
  const ttl = options.ttl ?? 4500;
  const hostTtl = options.hostTtl ?? 120;
  return [
    { type: 'PTR', name: `${options.type}.local`, ttl, data: fqdn },
    {
      type: 'SRV',
      name: fqdn,
      ttl: hostTtl,
      data: { target: options.host, port: options.port ?? 22 },
      flush: true,
    },
    {
      type: 'TXT',
      name: fqdn,
      ttl,
      data: (options.txt ?? []).map((t) => Buffer.from(t)),
      flush: true,
    },
    ...options.addresses.map((a) => ({
      type: 'A',
      name: options.host,
      ttl: hostTtl,
      data: a,
      flush: true,
    })),
  ];
}

export function response(records: Rec[]): { answers: Rec[]; additionals: Rec[] } {
  return { answers: records, additionals: [] };
}

export function goodbye(records: Rec[]): { answers: Rec[]; additionals: Rec[] } {
  return { answers: records.map((r) => ({ ...r, ttl: 0 })), additionals: [] };
}

export function sighting(
  partial: Partial<MdnsServiceSighting> & { host: string },
): MdnsServiceSighting {
  const kind = partial.kind ?? 'ssh';
  const instance = partial.instance ?? partial.host.replace(/\.local$/, '');
  return {
    fqdn: `${instance}._${kind}._tcp.local`,
    kind,
    instance,
    port: 22,
    addresses: [],
    txt: {},
    interfaceName: 'eth0',
    lastSeen: 1000,
    ...partial,
  };
}

export const FP_A = `SHA256:${'A'.repeat(43)}`;
export const FP_B = `SHA256:${'B'.repeat(43)}`;
