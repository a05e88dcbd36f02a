// Malformed and hostile mDNS packets never crash or stall discovery. Packets travel the
// real decode path: UDP datagrams into a multicast-dns socket (no multicast: bound to
// 127.0.0.1 on a free port), decoded by dns-packet, handled by Hearth's browser.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DiscoveryService } from './discovery-service';
import { bonjourTransport } from './mdns-browser';
import { freeUdpPort, loopbackLan, serviceRecords } from './test-helpers';
import type { Rec } from './test-helpers';

// dns-packet comes with multicast-dns (bonjour-service's dependency) and has no types here.
interface DnsPacket {
  encode(packet: {
    type: 'response' | 'query';
    id?: number;
    flags?: number;
    answers?: Rec[];
    additionals?: Rec[];
    questions?: { name: string; type: string }[];
  }): Buffer;
}
const dnsPacket = createRequire(import.meta.url)('dns-packet') as DnsPacket;

let port = 0;
let sender: Socket;
let service: DiscoveryService;
let marker = 0;

function send(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => sender.send(bytes, port, '127.0.0.1', () => resolve()));
}

/** Proves the socket still decodes and the service still answers: a fresh device must appear. */
async function stillAlive(): Promise<void> {
  marker++;
  const host = `alive-${marker}.local`;
  const packet = dnsPacket.encode({
    type: 'response',
    answers: serviceRecords({
      type: '_ssh._tcp',
      instance: `alive-${marker}`,
      host,
      addresses: ['10.9.9.9'],
    }),
  });
  // UDP may drop a datagram when the receive buffer is full after a flood: resend until seen.
  await vi.waitFor(
    async () => {
      await send(packet);
      expect(service.list().some((d) => d.hostnames.includes(host))).toBe(true);
    },
    { timeout: 5_000, interval: 100 },
  );
}

beforeAll(async () => {
  port = await freeUdpPort();
  // A neighbour on loopback's link, from the mDNS port (what the browser listens on here):
  // discovery reads nothing else (mdns-source.test.ts).
  sender = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => sender.bind(port, '127.0.0.2', resolve));
  service = new DiscoveryService({
    clock: { now: () => Date.now() },
    publish: () => undefined,
    interfaces: loopbackLan,
    mdnsTransport: (iface) =>
      bonjourTransport(iface, { port, bind: '127.0.0.1', ip: '127.0.0.1', multicast: false }),
    limits: { maxDevices: 64 },
  });
  service.start();
  await stillAlive();
});

afterAll(() => {
  service.stop();
  sender.close();
});

const nameArb = fc.oneof(
  fc.constantFrom(
    '_ssh._tcp.local',
    '_hearth._tcp.local',
    '_sftp-ssh._tcp.local',
    '_workstation._tcp.local',
    'raspberrypi.local',
  ),
  fc.string({ maxLength: 40 }).map((s) => `${s}._ssh._tcp.local`),
  fc.string({ unit: 'binary', maxLength: 60 }),
);
const recordArb: fc.Arbitrary<Rec> = fc.oneof(
  fc.record({
    type: fc.constant('PTR'),
    name: nameArb,
    ttl: fc.oneof(fc.constant(0), fc.nat()),
    data: nameArb,
  }),
  fc.record({
    type: fc.constant('SRV'),
    name: nameArb,
    ttl: fc.nat(),
    data: fc.record({ target: nameArb, port: fc.integer({ min: 0, max: 65535 }) }),
  }),
  fc.record({
    type: fc.constant('TXT'),
    name: nameArb,
    ttl: fc.nat(),
    data: fc.array(
      fc.uint8Array({ maxLength: 255 }).map((b) => Buffer.from(b)),
      { maxLength: 20 },
    ),
  }),
  fc.record({ type: fc.constant('A'), name: nameArb, ttl: fc.nat(), data: fc.ipV4() }),
  fc.record({ type: fc.constant('AAAA'), name: nameArb, ttl: fc.nat(), data: fc.ipV6() }),
);

describe('hostile mDNS packets through the real decode path', () => {
  it('survives random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 1500 }), async (bytes) => {
        await send(bytes);
      }),
      { numRuns: 300 },
    );
    await stillAlive();
  }, 30_000);

  it('survives mutated valid packets (truncated, bit-flipped, pointer loops)', async () => {
    const valid = dnsPacket.encode({
      type: 'response',
      answers: serviceRecords({
        type: '_ssh._tcp',
        instance: 'pi',
        host: 'pi.local',
        addresses: ['10.0.0.1'],
      }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 12,
        }),
        fc.nat(valid.length),
        async (flips, cut) => {
          const copy = Buffer.from(valid);
          for (const [at, value] of flips) copy[at] = value;
          await send(copy.subarray(0, Math.max(12, cut)));
        },
      ),
      { numRuns: 300 },
    );
    // A name compression pointer that points at itself.
    const loop = Buffer.from([
      0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 10, 0, 0,
    ]);
    await send(loop);
    await stillAlive();
  }, 30_000);

  it('survives random but plausible DNS-SD responses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { maxLength: 30 }),
        fc.array(recordArb, { maxLength: 10 }),
        async (answers, additionals) => {
          let bytes: Buffer;
          try {
            bytes = dnsPacket.encode({ type: 'response', answers, additionals });
          } catch {
            return; // not encodable (e.g. a label over 63 bytes): nothing to send
          }
          await send(bytes);
        },
      ),
      { numRuns: 300 },
    );
    await stillAlive();
    expect(service.list().length).toBeLessThanOrEqual(64);
    for (const device of service.list()) {
      // eslint-disable-next-line no-control-regex
      expect(device.name).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
      expect(device.name.length).toBeLessThanOrEqual(63);
    }
  }, 30_000);

  it('stays bounded under a flood of services, huge TXT and TTL 0 goodbyes', async () => {
    for (let batch = 0; batch < 50; batch++) {
      const answers = Array.from({ length: 20 }, (_, i) =>
        serviceRecords({
          type: '_ssh._tcp',
          instance: `flood-${batch}-${i}`,
          host: `flood-${batch}-${i}.local`,
          addresses: ['10.1.1.1'],
          txt: [`junk=${'x'.repeat(200)}`],
        }),
      ).flat();
      await send(dnsPacket.encode({ type: 'response', answers: answers.slice(0, 40) }));
      await send(
        dnsPacket.encode({
          type: 'response',
          answers: answers.slice(40).map((r) => ({ ...r, ttl: 0 })),
        }),
      );
    }
    await stillAlive();
    expect(service.list().length).toBeLessThanOrEqual(64);
  }, 30_000);
});
